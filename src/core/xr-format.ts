/**
 * What the core does for xr connections (GraphWiz-XR's web client) besides encoding their
 * frames: the PRESENCE_JOIN about themselves that tells them the room's host (their client
 * reads the host only from a PRESENCE_JOIN, never from the hello, as GraphWiz-XR's own server
 * sent it), and turning a JSON connection whose first frame is an xr frame into an xr one.
 * @module
 */
import type { Delivery } from "../delivery/deliver.ts";
import type { Logger } from "../log.ts";
import type { Frame } from "../lib/transport.ts";
import { Outbound } from "../protocol/codec.ts";
import { MessageType } from "../protocol/types.ts";
import type { Connection } from "./connection.ts";
import { joinEvent } from "./host.ts";
import type { Room } from "./room.ts";

/** The xr PRESENCE_JOIN about `conn` itself, carrying the room's host (sent after its hello). */
export function selfJoinFrame(conn: Connection, messageId: string, now: number): Frame {
  return new Outbound({
    type: MessageType.PRESENCE_JOIN,
    message_id: messageId,
    timestamp: now,
    payload: "presence_event",
    presence_event: joinEvent((conn.room as Room).world, conn.clientId),
  }).xr();
}

/**
 * A JSON connection whose first frame is an xr frame (a GraphWiz-XR client that did not say so
 * in its URL): from now on it is an xr connection — it moves to the room's xr topic and learns
 * the host. Not for acknowledged connections (xr frames carry no seq).
 */
export function becomeXr(conn: Connection, o: { delivery: Delivery; logger: Logger; messageId(): string; now(): number }): void {
  if (conn.reliable || conn.format === "xr") return;
  const subscribed = conn.joined && !conn.queue;
  if (subscribed) o.delivery.unsubscribe(conn);
  conn.format = "xr";
  if (subscribed) o.delivery.subscribe(conn);
  o.logger.info("connection_format", { room: conn.room.id, connection: conn.id, format: "xr" });
  if (conn.joined) conn.transport.send(selfJoinFrame(conn, o.messageId(), o.now()));
}
