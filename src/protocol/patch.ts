/**
 * Stamping a binary position update without re-encoding it. In protobuf the last value of a
 * scalar field wins and an embedded message's fields merge, so the server's `message_id` and
 * `timestamp` are written just before the client's `position_update` (after any the client
 * sent), and an `entity_id` the client left empty is written at the start of that embedded
 * message. The result decodes exactly like the re-encoded stamped message, for one copy of the
 * bytes instead of a decode-encode round — and, like a canonical encoding, it still ends with
 * the update's own last field. An unusual layout (the update not last, or sent twice) falls
 * back to appending the stamps.
 * @module
 */
import type { Envelope } from "./types.ts";

const enc = new TextEncoder();
const POSITION_TAG = 0xa2; // field 20, length-delimited: 162 = 0xa2 0x01 as a varint

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

let rp = 0; // position after the last readVarint (avoids an object per call)
function readVarint(b: Uint8Array, at: number): number {
  let n = 0, mul = 1, x: number;
  do {
    if (at >= b.length) return -1;
    x = b[at++];
    n += (x & 0x7f) * mul;
    mul *= 128;
  } while (x & 0x80);
  rp = at;
  return n;
}

/** Where the single top-level `position_update` is, if it is the last field; else undefined. */
function positionField(raw: Uint8Array): { tag: number; start: number; end: number } | undefined {
  let at = 0, found: { tag: number; start: number; end: number } | undefined;
  while (at < raw.length) {
    const tag = readVarint(raw, at);
    if (tag < 0) return undefined;
    const tagAt = at;
    at = rp;
    const wt = tag % 8;
    if (wt === 0) {
      if (readVarint(raw, at) < 0) return undefined;
      at = rp;
    } else if (wt === 2) {
      const len = readVarint(raw, at);
      if (len < 0) return undefined;
      if (Math.floor(tag / 8) === 20) {
        if (found) return undefined;
        found = { tag: tagAt, start: rp, end: rp + len };
      } else if (found) return undefined;
      at = rp + len;
    } else if (wt === 5) at += 4;
    else if (wt === 1) at += 8;
    else return undefined;
  }
  return found && found.end === raw.length ? found : undefined;
}

/**
 * The client's `raw` bytes with the server's stamps: `message_id` (when `idStamped`),
 * `timestamp`, and the position update's `entity_id` (when `entityStamped`).
 */
export function stampedBytes(raw: Uint8Array, msg: Envelope, idStamped: boolean, entityStamped: boolean): Uint8Array {
  const id = idStamped ? enc.encode(msg.message_id!) : undefined;
  const entity = entityStamped ? enc.encode(msg.position_update!.entity_id!) : undefined;
  const ts = msg.timestamp ?? 0;
  const entityField = entity ? 1 + varintLength(entity.length) + entity.length : 0;
  const stamps = (id ? 1 + varintLength(id.length) + id.length : 0) + 1 + varintLength(ts);
  const pos = positionField(raw);
  const head = pos ? pos.tag : raw.length;
  const inner = pos ? pos.end - pos.start + entityField : entityField;
  const posLen = pos || entity ? 2 + varintLength(inner) + inner : 0;
  const out = new Uint8Array(head + stamps + posLen + (pos ? 0 : raw.length - head));
  out.set(raw.subarray(0, head), 0);
  let at = head;
  if (id) {
    out[at++] = 0x0a; // field 1, length-delimited
    at = putVarint(out, at, id.length);
    out.set(id, at);
    at += id.length;
  }
  out[at++] = 0x10; // field 2, varint
  at = putVarint(out, at, ts);
  if (posLen) {
    out[at++] = POSITION_TAG;
    out[at++] = 0x01;
    at = putVarint(out, at, inner);
    if (entity) {
      out[at++] = 0x0a; // PositionUpdate.entity_id = 1
      at = putVarint(out, at, entity.length);
      out.set(entity, at);
      at += entity.length;
    }
    if (pos) out.set(raw.subarray(pos.start, pos.end), at);
  }
  return out;
}
