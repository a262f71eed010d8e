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
