/**
 * The frame of a binary POSITION_UPDATE, built from the client's bytes without a decode-encode
 * round: at 20–30 Hz per avatar this is the server's hottest path. The output is the client's
 * `type` and `position_update` with the server's `message_id` and `timestamp`, and nothing else
 * of the envelope: a client-written `seq`, `epoch`, `message_id`, `timestamp` or unknown field
 * never passes through (server-owned fields are the server's). Inside the update, an
 * `entity_id` the server filled in replaces whatever (e.g. an empty string) the client wrote,
 * and unknown fields are dropped. An unexpected layout (a known field with the wrong wire
 * type) returns `undefined`: the caller then encodes the decoded message canonically.
 * @module
 */
import { varintLength, VarintReader, writeVarint } from "../lib/varint.ts";

const enc = new TextEncoder();
const LEN = 2; // length-delimited wire type
const VARINT = 0;

/** One field's bytes to copy: [start, end) in the source, including its tag. */
type Span = [number, number];

/** Walks the fields of `buf[from, to)`, calling `each(field, wireType, start, end)`. False on malformed bytes. */
function fields(buf: Uint8Array, from: number, to: number, each: (field: number, wt: number, start: number, end: number) => boolean): boolean {
  const r = new VarintReader(buf.subarray(0, to));
  r.pos = from;
  while (r.pos < to) {
    const start = r.pos;
    const tag = r.read();
    if (tag < 0) return false;
    const wt = tag % 8;
    if (wt === VARINT) {
      if (r.read() < 0) return false;
    } else if (wt === LEN) {
      const len = r.read();
      if (len < 0 || r.pos + len > to) return false;
      r.pos += len;
    } else if (wt === 5) r.pos += 4;
    else if (wt === 1) r.pos += 8;
    else return false;
    if (r.pos > to || !each(Math.floor(tag / 8), wt, start, r.pos)) return false;
  }
  return true;
}

/**
 * The stamped frame: `type`, then `message_id` and `timestamp` (the server's), then the
 * position update (with `entityId` written first when the server chose it). `undefined` when
 * the client's bytes do not have the expected layout.
 */
export function stampPosition(raw: Uint8Array, messageId: string, timestamp: number, entityId?: string): Uint8Array | undefined {
  const keep: Span[] = []; // envelope fields to copy (type)
  let inner: Span | undefined; // the position update's payload bytes
  const okTop = fields(raw, 0, raw.length, (f, wt, s, e) => {
    if (f === 3) return wt === VARINT && (keep.push([s, e]), true);
    if (f === 20) {
      if (wt !== LEN) return false;
      const r = new VarintReader(raw);
      r.pos = s + 2; // tag 20 is two bytes (0xa2 0x01)
      const len = r.read();
      inner = [r.pos, r.pos + len];
      return len >= 0;
    }
    return true; // message_id, timestamp, seq, epoch and unknown fields: dropped
  });
  if (!okTop || !inner) return undefined;
  const body: Span[] = [];
  const okInner = fields(raw, inner[0], inner[1], (f, wt, s, e) => {
    if (f === 1) return wt === LEN && (entityId === undefined && body.push([s, e]), true);
    if (f === 2 || f === 3) return wt === LEN && (body.push([s, e]), true);
    if (f === 4) return wt === VARINT && (body.push([s, e]), true);
    return true; // unknown fields of the update: dropped
  });
  if (!okInner) return undefined;
  const id = enc.encode(messageId);
  const ent = entityId === undefined ? undefined : enc.encode(entityId);
  let innerLen = ent ? 1 + varintLength(ent.length) + ent.length : 0;
  for (const [s, e] of body) innerLen += e - s;
  let size = 1 + varintLength(id.length) + id.length + 1 + varintLength(timestamp) + 2 + varintLength(innerLen) + innerLen;
  for (const [s, e] of keep) size += e - s;
  const out = new Uint8Array(size);
  let at = 0;
  for (const [s, e] of keep) out.set(raw.subarray(s, e), at), (at += e - s);
  out[at++] = 0x0a; // message_id (field 1)
  at = writeVarint(out, at, id.length);
  out.set(id, at);
  at += id.length;
  out[at++] = 0x10; // timestamp (field 2)
  at = writeVarint(out, at, timestamp);
  out[at++] = 0xa2; // position_update (field 20)
  out[at++] = 0x01;
  at = writeVarint(out, at, innerLen);
  if (ent) {
    out[at++] = 0x0a; // PositionUpdate.entity_id (field 1)
    at = writeVarint(out, at, ent.length);
    out.set(ent, at);
    at += ent.length;
  }
  for (const [s, e] of body) out.set(raw.subarray(s, e), at), (at += e - s);
  return out;
}
