/**
 * What the hub does for xr connections (GraphWiz-XR's web client) besides encoding their frames:
 * the PRESENCE_JOIN about themselves that tells them the room's host (their client reads the
 * host only from a PRESENCE_JOIN, never from the hello, as GraphWiz-XR's own server sent it),
 * and settling the format of a connection whose format was not chosen at upgrade.
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
 * The first frame of a connection whose format was not chosen at upgrade (no subprotocol, no
 * `?format=`, no `?room_id=`): an xr frame makes it an xr connection from now on (it moves to
 * the room's xr topic and learns the host); anything else keeps it as it is.
 */
export function settleFormat(hub: Hub, conn: Connection, xr: boolean): void {
  conn.formatAuto = undefined;
  if (!xr || conn.format === "xr" || conn.reliable) return; // xr frames carry no seq to acknowledge
  const room = conn.room;
  const subscribed = room.members.has(conn) && !conn.queue;
  if (subscribed) room.unsubscribe(conn, hub.fanout);
  conn.format = "xr";
  if (subscribed) room.subscribe(conn, hub.fanout);
  hub.log.info("connection_format", { room: room.id, connection: conn.id, format: "xr" });
  if (room.members.has(conn)) conn.transport.send(selfJoinFrame(hub, conn));
}
