/** The JSON bodies of the stats endpoints (cluster-wide when the instances share Redis). @module */
import type { MemberInfo } from "../cluster/types.ts";
import type { Clock } from "../lib/clock.ts";
import type { Connection } from "./connection.ts";
import type { Moderation } from "./moderation.ts";
import type { Replication } from "./replication.ts";
import type { Rooms } from "./rooms.ts";

/** One connection as listed by `/ws/{room}/stats`. */
export interface ConnectionInfo {
  id: string;
  room_id: string;
  user_id: string | null;
  client_id: string;
  connected_at: string;
  node_id: string;
  /** Details this instance knows only of its own connections: */
  format?: string;
  /** Frames waiting in this connection's queue while it is slow. */
  queued_messages?: number;
  /** Bytes in the socket buffer plus the queue. */
  queued_bytes?: number;
  /** Reliable connections: reliable messages of the room not yet acknowledged. */
  unacked?: number;
}

/** What the stats read. */
export interface StatsSource {
  rooms: Rooms;
  replication: Replication;
  clock: Clock;
  /** Open connections on this instance. */
  connections(): number;
  moderation: Moderation;
}

/** Describes one local connection (never its token). */
export function describe(c: Connection, nodeId: string): ConnectionInfo {
  return {
    id: c.id,
    room_id: c.room.id,
    user_id: c.userId,
    client_id: c.clientId,
    connected_at: new Date(c.connectedAt).toISOString(),
    node_id: nodeId,
    format: c.format,
    queued_messages: c.queue?.length ?? 0,
    queued_bytes: (c.queue?.bytes ?? 0) + c.transport.bufferedAmount(),
    ...(c.reliable ? { unacked: c.ackEpoch === c.room.epoch ? Math.max(0, c.room.seq - c.acked) : 0 } : {}),
  };
}

const remote = (m: MemberInfo): ConnectionInfo => ({
  id: m.connection_id,
  room_id: m.room_id,
  user_id: m.user_id,
  client_id: m.client_id,
  connected_at: m.connected_at,
  node_id: m.node_id,
});

/** `/ws/{room}/stats`: every connection of the room on every instance; an unknown room is simply empty. */
export async function roomStats(s: StatsSource, roomId: string) {
  const node = s.replication.nodeId;
  const room = s.rooms.get(roomId);
  const connections = room ? [...room.members].map((c) => describe(c, node)) : [];
  const mine = new Set(connections.map((c) => c.id));
  for (const m of await s.replication.remoteMembers(roomId)) if (!mine.has(m.connection_id)) connections.push(remote(m));
  return { room_id: roomId, connection_count: connections.length, connections };
}

/**
 * `/ws/{room}/stats` with the room's host, and — when there are any — its lock and muted clients.
 * An empty or unknown room keeps the plain shape.
 */
export async function roomStatsWithModeration(s: StatsSource, roomId: string) {
  const m = s.moderation;
  const unknown = () => undefined; // the cluster's store unreachable: stats without these fields
  const [stats, host, state] = await Promise.all([roomStats(s, roomId), m.host(roomId).catch(unknown), Promise.resolve(m.state(roomId)).catch(unknown)]);
  return {
    ...stats,
    ...(host ? { host_client_id: host } : {}),
    ...(state?.lock ? { locked: true, lock: state.lock } : {}),
    ...(state?.muted.size ? { muted: [...state.muted] } : {}),
  };
}

/** `/ws/stats`: the cluster's total (from the nodes' heartbeats), the nodes, and this instance's own numbers. */
export async function globalStats(s: StatsSource) {
  const local = s.connections();
  const node = s.replication.nodeId;
  const base = { rooms: s.rooms.size, local_connections: local, node_id: node, timestamp: new Date(s.clock.now()).toISOString() };
  const nodes = await s.replication.nodes();
  if (!nodes) return { total_connections: local, ...base };
  const others = nodes.filter((n) => n.node_id !== node).reduce((sum, n) => sum + (n.connections || 0), 0);
  return { total_connections: local + others, ...base, nodes };
}
