/**
 * What the hub does for xr connections (GraphWiz-XR's web client) besides encoding their frames:
 * the PRESENCE_JOIN about themselves that tells them the room's host (their client reads the
 * host only from a PRESENCE_JOIN, never from the hello, as GraphWiz-XR's own server sent it),
 * and turning a JSON connection whose first frame is an xr frame into an xr connection.
 * @module
 */
import { Outbound } from "../protocol/codec.ts";
import { MessageType } from "../protocol/types.ts";
import type { Connection } from "./connection.ts";
import { joinEvent } from "./host.ts";
import type { Hub } from "./hub.ts";

/** The xr PRESENCE_JOIN about `conn` itself, carrying the room's host (sent after its hello). */
export function selfJoinFrame(hub: Hub, conn: Connection): string | Uint8Array {
  return new Outbound({
    type: MessageType.PRESENCE_JOIN,
    message_id: hub.nextMessageId(),
    timestamp: hub.clock.now(),
    payload: "presence_event",
    presence_event: joinEvent(conn.room.world, conn.clientId),
  }).xr();
}

/**
 * A JSON connection whose first frame is an xr frame (a GraphWiz-XR client that did not say so
 * in its URL): from now on it is an xr connection — it moves to the room's xr topic and learns
 * the host. Not for acknowledged connections (xr frames carry no seq).
 */
export function becomeXr(hub: Hub, conn: Connection): void {
  if (conn.reliable) return;
  const room = conn.room;
  const subscribed = room.members.has(conn) && !conn.queue;
  if (subscribed) room.unsubscribe(conn, hub.fanout);
  conn.format = "xr";
  if (subscribed) room.subscribe(conn, hub.fanout);
  hub.log.info("connection_format", { room: room.id, connection: conn.id, format: "xr" });
  if (room.members.has(conn)) conn.transport.send(selfJoinFrame(hub, conn));
}
