/** The JSON bodies of the stats endpoints (cluster-wide when the instances share Redis). @module */
import type { MemberInfo } from "../cluster/types.ts";
import type { Connection } from "./connection.ts";
import type { Hub } from "./hub.ts";
import { moderationOf } from "./moderation.ts";

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
    ...(c.reliable ? { unacked: Math.max(0, c.room.seq - c.acked) } : {}),
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
export async function roomStats(hub: Hub, roomId: string) {
  const node = hub.link.nodeId;
  const room = hub.rooms.get(roomId);
  const connections = room ? [...room.members].map((c) => describe(c, node)) : [];
  if (hub.link.opts.shareWorld) {
    const mine = new Set(connections.map((c) => c.id));
    for (const m of (await hub.link.members(roomId)) ?? []) if (m.node_id !== node && !mine.has(m.connection_id)) connections.push(remote(m));
  }
  return { room_id: roomId, connection_count: connections.length, connections };
}

/**
 * `/ws/{room}/stats` with the room's host, and — when there are any — its lock and muted clients
 * (compat, issue 15).
 */
export async function roomStatsWithModeration(hub: Hub, roomId: string) {
  const m = moderationOf(hub);
  const unknown = () => undefined; // the cluster's store unreachable: stats without these fields
  const [stats, host, state] = await Promise.all([roomStats(hub, roomId), m.host(roomId).catch(unknown), Promise.resolve(m.state(roomId)).catch(unknown)]);
  // Only what there is: an empty or unknown room keeps the seed's shape.
  return {
    ...stats,
    ...(host ? { host_client_id: host } : {}),
    ...(state?.lock ? { locked: true, lock: state.lock } : {}),
    ...(state?.muted.size ? { muted: [...state.muted] } : {}),
  };
}

/** `/ws/stats`: the cluster's total (from the nodes' heartbeats), the nodes, and this instance's own numbers. */
export async function globalStats(hub: Hub) {
  const local = hub.connections.size;
  const base = { rooms: hub.rooms.size, local_connections: local, node_id: hub.link.nodeId, timestamp: new Date(hub.clock.now()).toISOString() };
  if (!hub.link.opts.shareWorld) return { total_connections: local, ...base };
  const nodes = (await hub.link.nodes()) ?? [];
  const others = nodes.filter((n) => n.node_id !== hub.link.nodeId).reduce((sum, n) => sum + (n.connections || 0), 0);
  return { total_connections: local + others, ...base, nodes };
}
