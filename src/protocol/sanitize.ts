/**
 * Server-owned fields are the server's. A message a client sent is cleaned here, at ingress,
 * before anything handles, relays, logs or sequences it: the envelope's `seq` and `epoch` are
 * cleared (the room log sets them), and the client's `message_id` is kept aside only as the
 * reference its errors and acceptances name (the server gives every relayed message its own
 * id and timestamp). Payload fields the server stamps (`from_client_id`, `owner_id`, a chat's
 * `timestamp`, a position update's default `entity_id`) are overwritten by their handlers.
 * @module
 */
import type { Envelope } from "./types.ts";

/** Clears what a client may not set; returns the client's own message id (for error references). */
export function sanitizeInbound(msg: Envelope): string {
  const ref = msg.message_id ?? "";
  msg.seq = 0;
  msg.epoch = 0;
  msg.message_id = "";
  return ref;
}
