/**
 * Stamping a binary message without re-encoding it. In protobuf the last value of a scalar field
 * wins and a repeated embedded message is merged, so appending `message_id`, `timestamp` and —
 * for a position update that named no entity — `position_update { entity_id }` to the client's
 * bytes yields exactly the stamped message, for one copy instead of a decode-encode round.
 * @module
 */
import type { Envelope } from "./types.ts";

const enc = new TextEncoder();

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) (n = Math.floor(n / 128)), len++;
  return len;
}

function putVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

/**
 * The client's `raw` bytes with the server's stamps appended: `message_id` (when `idStamped`),
 * `timestamp`, and the position update's `entity_id` (when `entityStamped`).
 */
export function stampedBytes(raw: Uint8Array, msg: Envelope, idStamped: boolean, entityStamped: boolean): Uint8Array {
  const id = idStamped ? enc.encode(msg.message_id!) : undefined;
  const entity = entityStamped ? enc.encode(msg.position_update!.entity_id!) : undefined;
  const ts = msg.timestamp ?? 0;
  let extra = 1 + varintLength(ts);
  if (id) extra += 1 + varintLength(id.length) + id.length;
  const inner = entity ? 1 + varintLength(entity.length) + entity.length : 0;
  if (entity) extra += 2 + varintLength(inner) + inner; // field 20 has a two-byte tag
  const out = new Uint8Array(raw.length + extra);
  out.set(raw, 0);
  let at = raw.length;
  if (id) {
    out[at++] = 0x0a; // field 1, length-delimited
    at = putVarint(out, at, id.length);
    out.set(id, at);
    at += id.length;
  }
  out[at++] = 0x10; // field 2, varint
  at = putVarint(out, at, ts);
  if (entity) {
    out[at++] = 0xa2; // field 20, length-delimited: (20 << 3 | 2) = 162 as a varint
    out[at++] = 0x01;
    at = putVarint(out, at, inner);
    out[at++] = 0x0a; // PositionUpdate.entity_id = 1
    at = putVarint(out, at, entity.length);
    out.set(entity, at);
  }
  return out;
}
