/** The JSON bodies of the stats endpoints. @module */
import type { Connection } from "./connection.ts";
import type { Hub } from "./hub.ts";

/** One connection as listed by `/ws/{room}/stats`. */
export interface ConnectionInfo {
  id: string;
  room_id: string;
  user_id: string | null;
  client_id: string;
  connected_at: string;
  format: string;
  /** Frames waiting in this connection's queue while it is slow. */
  queued_messages: number;
  /** Bytes in the socket buffer plus the queue. */
  queued_bytes: number;
  /** Reliable connections: reliable messages of the room not yet acknowledged. */
  unacked?: number;
}

/** Describes one connection (never its token). */
export function describe(c: Connection): ConnectionInfo {
  return {
    id: c.id,
    room_id: c.room.id,
    user_id: c.userId,
    client_id: c.clientId,
    connected_at: new Date(c.connectedAt).toISOString(),
    format: c.format,
    queued_messages: c.queue?.length ?? 0,
    queued_bytes: (c.queue?.bytes ?? 0) + c.transport.bufferedAmount(),
    ...(c.reliable ? { unacked: Math.max(0, c.room.seq - c.acked) } : {}),
  };
}

/** `/ws/{room}/stats`: an unknown room is simply empty. */
export function roomStats(hub: Hub, roomId: string) {
  const room = hub.rooms.get(roomId);
  const connections = room ? [...room.members].map(describe) : [];
  return { room_id: roomId, connection_count: connections.length, connections };
}

/** `/ws/stats`. */
export function globalStats(hub: Hub) {
  return {
    total_connections: hub.connections.size,
    rooms: hub.rooms.size,
    timestamp: new Date(hub.clock.now()).toISOString(),
  };
}
