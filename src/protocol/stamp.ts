/**
 * The frame of a binary POSITION_UPDATE, built from the client's bytes without a decode-encode
 * round: at 20–30 Hz per avatar this is the server's hottest path. The output is the client's
 * `type` and `position_update` with the server's `message_id` and `timestamp`, and nothing else
 * of the envelope: a client-written `seq`, `epoch`, `message_id`, `timestamp` or unknown field
 * never passes through (server-owned fields are the server's). Inside the update, an
 * `entity_id` the server filled in replaces whatever (e.g. an empty string) the client wrote
 * (then unknown fields of the update are dropped too; otherwise the update is copied whole). An unusual layout (a known field with the wrong wire type, or
 * sent twice) returns `undefined`: the caller then encodes the decoded message canonically.
 * @module
 */
import { utf8Length } from "../lib/bytes.ts";
import { allocFrame } from "../lib/frame-alloc.ts";
import type { AsciiBytes } from "../lib/ids.ts";
import { varintLength, writeVarint } from "../lib/varint.ts";

const enc = new TextEncoder();
const SPANS = new Int32Array(8);

/**
 * Where the fields lie in the frame that `decodePosition` (position-decode.ts) accepted last:
 * it walked them already, so {@link stampPosition} reuses them for that very frame instead of
 * scanning it again. `frame` is cleared when a decode starts and set only once it succeeded;
 * spans are [start, end) of a field with its tag, `spans` those of the update's fields 1..4 (-1: absent).
 */
export const decoded = { frame: undefined as Uint8Array | undefined, typeS: -1, typeE: -1, innerS: -1, innerE: -1, spans: new Int32Array(8) };

/** The reader's position after the last {@link varint} call (module state: no object per call). */
export let at = 0;
/**
 * The varint at `pos` in `b` (before `end`), or -1 when it runs past `end` or is longer than
 * `maxBytes`; `at` is left after it.
 */
export function varint(b: Uint8Array, pos: number, end: number, maxBytes = Infinity): number {
  let n = 0, mul = 1, x: number;
  const stop = Math.min(end, pos + maxBytes);
  do {
    if (pos >= stop) return -1;
    x = b[pos++]!;
    n += (x & 0x7f) * mul;
    mul *= 128;
  } while (x & 0x80);
  at = pos;
  return n;
}

/** Writes `s` (of UTF-8 length `len`) at `w`: ASCII by a loop (ids nearly always are), else by the encoder. */
export function text(out: Uint8Array, w: number, s: string, len: number): number {
  if (len !== s.length) return w + enc.encodeInto(s, out.subarray(w)).written;
  for (let i = 0; i < len; i++) out[w++] = s.charCodeAt(i);
  return w;
}

/** Copies `src[s, e)` to `out` at `w` (a loop: these spans are a few bytes; no view per span); returns the end. */
export function copy(out: Uint8Array, w: number, src: Uint8Array, s: number, e: number): number {
  while (s < e) out[w++] = src[s++]!;
  return w;
}

/** Skips the value of a field with wire type `wt` starting at `pos`; returns its end, or -1. */
export function skip(b: Uint8Array, wt: number, pos: number, end: number): number {
  if (wt === 0) return varint(b, pos, end) < 0 ? -1 : at;
  if (wt === 2) {
    const len = varint(b, pos, end);
    return len < 0 || at + len > end ? -1 : at + len;
  }
  if (wt === 5) return pos + 4 <= end ? pos + 4 : -1;
  if (wt === 1) return pos + 8 <= end ? pos + 8 : -1;
  return -1;
}

/**
 * The stamped frame: `type`, then `message_id` and `timestamp` (the server's), then the
 * position update (with `entityId` written first when the server chose it). `undefined` when
 * the client's bytes do not have the expected layout. `idBytes`, when given, are `messageId`'s
 * ASCII bytes (the server's {@link import("../lib/ids.ts").MessageIds}): copied instead of the string read.
 */
export function stampPosition(raw: Uint8Array, messageId: string, timestamp: number, entityId?: string, idBytes?: AsciiBytes): Uint8Array | undefined {
  // Top level: the `type` field and the position update's payload; everything else is dropped.
  let typeS = -1, typeE = -1, innerS = -1, innerE = -1, pos = 0;
  const known = raw === decoded.frame; // decoded just before: its layout is known (and the usual one)
  if (known) (typeS = decoded.typeS), (typeE = decoded.typeE), (innerS = decoded.innerS), (innerE = decoded.innerE);
  const n = known ? 0 : raw.length;
  while (pos < n) {
    const fieldStart = pos;
    const tag = varint(raw, pos, n);
    if (tag < 0) return undefined;
    const f = Math.floor(tag / 8), wt = tag % 8;
    const valueAt = at;
    const end = skip(raw, wt, valueAt, n);
    if (end < 0) return undefined;
    if (f === 3) {
      if (wt !== 0) return undefined;
      typeS = fieldStart;
      typeE = end;
    } else if (f === 20) {
      if (wt !== 2 || innerS >= 0) return undefined; // sent twice: not the usual layout
      varint(raw, valueAt, n);
      innerS = at;
      innerE = end;
    }
    pos = end;
  }
  if (innerS < 0) return undefined;
  // Inside the update: entity_id (1), position (2), rotation (3), sequence_number (4), once each.
  // Only read when the server writes the entity id (every client-written one must go: the last
  // value of a field wins); otherwise the update is copied whole.
  let inner = innerE - innerS; // bytes of the fields kept
  const scanned = entityId !== undefined;
  const spans = known ? decoded.spans : SPANS; // [start, end] of fields 1..4 (the decoder's are only read, no copy)
  if (scanned) {
    inner = 0;
    if (!known) spans.fill(-1);
  }
  pos = scanned && !known ? innerS : innerE;
  while (pos < innerE) {
    const fieldStart = pos;
    const tag = varint(raw, pos, innerE);
    if (tag < 0) return undefined;
    const f = Math.floor(tag / 8), wt = tag % 8;
    const end = skip(raw, wt, at, innerE);
    if (end < 0) return undefined;
    if (f >= 1 && f <= 4) {
      if (wt !== (f === 4 ? 0 : 2) || spans[(f - 1) * 2]! >= 0) return undefined;
      spans[(f - 1) * 2] = fieldStart;
      spans[(f - 1) * 2 + 1] = end;
    }
    pos = end;
  }
  if (scanned) {
    // From field 2 on: the server's entity id replaces the client's (field 1).
    for (let i = 2; i < 8; i += 2) if (spans[i]! >= 0) inner += spans[i + 1]! - spans[i]!;
  }
  const idLen = idBytes ? idBytes.length : utf8Length(messageId);
  const entLen = entityId === undefined ? -1 : utf8Length(entityId);
  if (entLen >= 0) inner += 1 + varintLength(entLen) + entLen;
  const typeLen = typeS >= 0 ? typeE - typeS : 0;
  const out = allocFrame(typeLen + 1 + varintLength(idLen) + idLen + 1 + varintLength(timestamp) + 2 + varintLength(inner) + inner);
  let w = 0;
  if (typeS >= 0) w = copy(out, w, raw, typeS, typeE);
  out[w++] = 0x0a; // message_id (field 1)
  w = writeVarint(out, w, idLen);
  w = idBytes ? copy(out, w, idBytes.bytes, 0, idLen) : text(out, w, messageId, idLen);
  out[w++] = 0x10; // timestamp (field 2)
  w = writeVarint(out, w, timestamp);
  out[w++] = 0xa2; // position_update (field 20)
  out[w++] = 0x01;
  w = writeVarint(out, w, inner);
  if (entLen >= 0) {
    out[w++] = 0x0a; // PositionUpdate.entity_id (field 1)
    w = writeVarint(out, w, entLen);
    w = text(out, w, entityId!, entLen);
  }
  if (!scanned) w = copy(out, w, raw, innerS, innerE);
  else for (let i = 2; i < 8; i += 2) if (spans[i]! >= 0) w = copy(out, w, raw, spans[i]!, spans[i + 1]!);
  return out;
}
