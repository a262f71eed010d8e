/**
 * The frame of a binary CHAT_MESSAGE, built from the client's bytes instead of a protobufjs
 * encode of the decoded message (1 message in 16 of the fan-out bench is a chat, yet the encode
 * was ~17 % of the core's CPU). The output is byte for byte what `encodeBinary(msg)` writes
 * once the server stamped `msg`: the envelope's `message_id`, `timestamp` and `type` (the
 * server's; `seq`/`epoch` are 0 here, the room log appends them), then the chat with the
 * server's `from_client_id` and `timestamp` and the client's `message`, `type` and
 * `to_client_id` copied — in field order, defaults left out, as protobufjs writes them.
 * A client's `from_client_id`/`timestamp` and unknown fields are dropped (protobufjs discards
 * unknown fields on decode). An unusual layout (a field sent twice, a known field with another
 * wire type, a chat type that is not a short minimal varint) returns `undefined`: the caller
 * then encodes `msg` with protobufjs. Property-tested (test/unit/stamp-chat.test.ts).
 * @module
 */
import { utf8Length } from "../lib/bytes.ts";
import { allocFrame } from "../lib/frame-alloc.ts";
import { varintLength, writeVarint } from "../lib/varint.ts";
import { at, copy, skip, text, varint } from "./stamp.ts";
import type { Envelope } from "./types.ts";

// [start, end) of the client's message (field 2), type (4) and to_client_id (5) fields, -1 when absent.
const SPANS = new Int32Array(6);

/** Scans the chat in `raw[s, e)` into SPANS; false when its layout is not the usual one. */
function scanChat(raw: Uint8Array, s: number, e: number): boolean {
  SPANS.fill(-1);
  let seen = 0;
  while (s < e) {
    const start = s;
    const tag = varint(raw, s, e);
    if (tag < 0) return false;
    const f = Math.floor(tag / 8), wt = tag % 8;
    const valueAt = at;
    const end = skip(raw, wt, valueAt, e);
    if (end < 0) return false;
    if (f >= 1 && f <= 5) {
      // Copied fields must be as protobufjs writes them: one-byte tag, minimal varints.
      if (seen & (1 << f) || wt !== (f === 3 || f === 4 ? 0 : 2) || valueAt - start !== 1) return false;
      seen |= 1 << f;
      const v = varint(raw, valueAt, end); // the chat type (an int32 enum), or a string's length
      if (v < 0 || at - valueAt !== varintLength(v)) return false;
      if (f === 4 && v > 0x7fffffff) return false; // a negative type: protobufjs writes 10 bytes
      const i = f === 2 ? 0 : f === 4 ? 2 : f === 5 ? 4 : -1;
      if (i >= 0 && v > 0) (SPANS[i] = start), (SPANS[i + 1] = end); // a default (0, "") is left out
    }
    s = end;
  }
  return true;
}

/** Bytes of a length-delimited string field (one-byte tag) of UTF-8 length `len`; 0 when empty (left out). */
const stringField = (len: number) => (len > 0 ? 1 + varintLength(len) + len : 0);
/** Bytes of a varint field (one-byte tag); 0 when the value is 0 (left out). */
const varintField = (v: number) => (v !== 0 ? 1 + varintLength(v) : 0);
const span = (i: number) => (SPANS[i]! >= 0 ? SPANS[i + 1]! - SPANS[i]! : 0);

/**
 * The stamped frame of the chat `msg` decoded from `raw` (after the handler set the server's
 * fields), or undefined when `raw`'s layout is not the usual one.
 */
export function stampChat(raw: Uint8Array, msg: Envelope): Uint8Array | undefined {
  const chat = msg.chat_message;
  const ts = msg.timestamp ?? 0, chatTs = chat?.timestamp ?? 0, type = msg.type ?? 0;
  const plain = (x: number) => Number.isSafeInteger(x) && x >= 0; // written as protobufjs writes an int64/int32
  if (!chat || (msg.seq ?? 0) !== 0 || (msg.epoch ?? 0) !== 0 || !plain(ts) || !plain(chatTs) || !plain(type)) return undefined;
  // The envelope: only the chat's bytes are read (the rest is the server's or dropped).
  const n = raw.length;
  let innerS = -1, innerE = -1, pos = 0;
  while (pos < n) {
    const tag = varint(raw, pos, n);
    if (tag < 0) return undefined;
    const f = Math.floor(tag / 8), wt = tag % 8;
    const valueAt = at;
    const end = skip(raw, wt, valueAt, n);
    if (end < 0) return undefined;
    if (f === 40) {
      if (wt !== 2 || innerS >= 0) return undefined; // sent twice (protobufjs merges): not the usual layout
      varint(raw, valueAt, n);
      innerS = at;
      innerE = end;
    }
    pos = end;
  }
  if (innerS < 0 || !scanChat(raw, innerS, innerE)) return undefined;
  const id = msg.message_id ?? "", from = chat.from_client_id ?? "";
  const idLen = utf8Length(id), fromLen = utf8Length(from);
  const inner = stringField(fromLen) + span(0) + varintField(chatTs) + span(2) + span(4);
  const out = allocFrame(stringField(idLen) + varintField(ts) + varintField(type) + 2 + varintLength(inner) + inner);
  let w = 0;
  if (idLen > 0) (out[w++] = 0x0a), (w = text(out, writeVarint(out, w, idLen), id, idLen)); // message_id (1)
  if (ts !== 0) (out[w++] = 0x10), (w = writeVarint(out, w, ts)); // timestamp (2)
  if (type !== 0) (out[w++] = 0x18), (w = writeVarint(out, w, type)); // type (3)
  out[w++] = 0xc2; // chat_message (40)
  out[w++] = 0x02;
  w = writeVarint(out, w, inner);
  if (fromLen > 0) (out[w++] = 0x0a), (w = text(out, writeVarint(out, w, fromLen), from, fromLen)); // from_client_id (1)
  if (SPANS[0]! >= 0) w = copy(out, w, raw, SPANS[0]!, SPANS[1]!); // message (2)
  if (chatTs !== 0) (out[w++] = 0x18), (w = writeVarint(out, w, chatTs)); // timestamp (3)
  if (SPANS[2]! >= 0) w = copy(out, w, raw, SPANS[2]!, SPANS[3]!); // type (4)
  if (SPANS[4]! >= 0) w = copy(out, w, raw, SPANS[4]!, SPANS[5]!); // to_client_id (5)
  return out;
}
