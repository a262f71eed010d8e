/**
 * The bytes the load generator sends and how it finds a message's sequence number in what it
 * receives, without decoding (no allocation per message).
 *
 * Every benchmark frame is one protobuf `graphwiz.core.Message` (built once, then patched in
 * place):
 * - `PositionUpdate` carries the sequence in `sequence_number` (uint32, passed through by the
 *   server untouched). Sequences are `SEQ_BASE + index` with `SEQ_BASE = 2^28`, so the varint is
 *   always exactly 5 bytes and a frame's length never changes.
 * - `ChatMessage` carries it in its text as `seq:` + 8 hex digits.
 * Raw baselines relay these bytes verbatim; Socket.IO carries them as a binary attachment.
 * @module
 */
export const SEQ_BASE = 0x1000_0000;
/** Largest index a sequence can carry (uint32). */
export const SEQ_MAX_INDEX = 0xffff_ffff - SEQ_BASE;

const TYPE_POSITION = 10;
const TYPE_CHAT = 30;
const TYPE_ERROR = 50;

/** A frame payload and where in it the sequence lives. */
export interface Template {
  bytes: Uint8Array;
  /** Offset of the 5-byte varint (position) or the 8 hex digits (chat). */
  seqAt: number;
  kind: "position" | "chat";
}

// A tiny protobuf writer (fields in the order protobufjs writes them), so that the load generator
// does not depend on src/, which may be mid-edit while a benchmark of a committed tree runs.
// test/bench-smoke.test.ts checks these bytes against the project's schema.
const tag = (field: number, wire: number) => [(field << 3) | wire].flatMap(varintBytes);
function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
const float32 = (x: number) => [...new Uint8Array(new Float32Array([x]).buffer)];
const ld = (field: number, body: number[]) => [...tag(field, 2), ...varintBytes(body.length), ...body];
/** A Vector3 / Quaternion: float fields 1, 2, 3(, 4), all non-zero so none is left out. */
const floats = (field: number, xs: number[]) => ld(field, xs.flatMap((x, i) => [...tag(i + 1, 5), ...float32(x)]));
const seq5 = (v: number) => [(v & 0x7f) | 0x80, ((v >>> 7) & 0x7f) | 0x80, ((v >>> 14) & 0x7f) | 0x80, ((v >>> 21) & 0x7f) | 0x80, v >>> 28];

/**
 * A PositionUpdate for the sender's own avatar (empty `entity_id`): position, and with `full` a
 * rotation (≈50 bytes, the fan-out frame; otherwise ≈28 bytes), then `sequence_number`.
 */
export function positionTemplate(full: boolean): Template {
  const body = [
    ...floats(2, [1.25, 1.75, -3.5]),
    ...(full ? floats(3, [0.1, 0.2, 0.3, 0.9]) : []),
    ...tag(4, 0),
  ];
  const seqInBody = body.length;
  const payload = [...body, ...seq5(SEQ_BASE)];
  const head = [...tag(3, 0), ...varintBytes(TYPE_POSITION), ...tag(20, 2), ...varintBytes(payload.length)];
  return { bytes: new Uint8Array([...head, ...payload]), seqAt: head.length + seqInBody, kind: "position" };
}

/** A ChatMessage (NORMAL) whose text carries the sequence; about `size` bytes long. */
export function chatTemplate(size = 50): Template {
  const text = [..."seq:00000000", ..."x".repeat(Math.max(0, size - 20))].map((c) => c.charCodeAt(0));
  const chat = ld(2, text);
  const head = [...tag(3, 0), ...varintBytes(TYPE_CHAT), ...tag(40, 2), ...varintBytes(chat.length)];
  const seqAt = head.length + chat.length - text.length + 4;
  return { bytes: new Uint8Array([...head, ...chat]), seqAt, kind: "chat" };
}

const HEX = new Uint8Array(16).map((_, i) => "0123456789abcdef".charCodeAt(i));

/** Writes sequence index `idx` into a copy of `t` that lives at `buf[off…]`. */
export function patchSeq(t: Template, buf: Uint8Array, off: number, idx: number): void {
  const p = off + t.seqAt;
  if (t.kind === "position") {
    const v = SEQ_BASE + idx;
    buf[p] = (v & 0x7f) | 0x80;
    buf[p + 1] = ((v >>> 7) & 0x7f) | 0x80;
    buf[p + 2] = ((v >>> 14) & 0x7f) | 0x80;
    buf[p + 3] = ((v >>> 21) & 0x7f) | 0x80;
    buf[p + 4] = v >>> 28;
  } else {
    for (let i = 7; i >= 0; i--) buf[p + 7 - i] = HEX[(idx >>> (i * 4)) & 15];
  }
}

// ---- scanning received frames -------------------------------------------------------------

/** Not a benchmark message (hello, presence, pong…). */
export const NOT_SEQ = -1;
/** A protobuf ERROR message from the server (e.g. RATE_LIMITED). */
export const SERVER_ERROR = -2;

let P = 0;
function varint(b: Uint8Array, p: number): number {
  let x = 0;
  let mul = 1;
  let c: number;
  do {
    c = b[p++];
    x += (c & 0x7f) * mul;
    mul *= 128;
  } while (c & 0x80 && p < b.length);
  P = p;
  return x;
}

function positionSeq(b: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const tag = varint(b, p);
    p = P;
    const wt = tag & 7;
    if (wt === 0) {
      const v = varint(b, p);
      p = P;
      if (tag >>> 3 === 4) return v >= SEQ_BASE ? v - SEQ_BASE : NOT_SEQ;
    } else if (wt === 2) {
      const len = varint(b, p);
      p = P + len;
    } else if (wt === 5) p += 4;
    else if (wt === 1) p += 8;
    else return NOT_SEQ;
  }
  return NOT_SEQ;
}

function hexVal(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}

function chatSeq(b: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const tag = varint(b, p);
    p = P;
    const wt = tag & 7;
    if (wt === 2) {
      const len = varint(b, p);
      p = P;
      // field 2 = message: "seq:" + 8 hex digits
      if (tag >>> 3 === 2 && len >= 12 && b[p] === 115 && b[p + 3] === 58) {
        let v = 0;
        for (let i = 4; i < 12; i++) v = v * 16 + hexVal(b[p + i]);
        return v;
      }
      p += len;
    } else if (wt === 0) {
      varint(b, p);
      p = P;
    } else if (wt === 5) p += 4;
    else if (wt === 1) p += 8;
    else return NOT_SEQ;
  }
  return NOT_SEQ;
}

/**
 * The sequence index of a received Message in `b[p…end)`, {@link NOT_SEQ} for other messages,
 * or {@link SERVER_ERROR} for an ERROR message.
 */
export function scanSeq(b: Uint8Array, p: number, end: number): number {
  // Fast path: in a PositionUpdate message, sequence_number (a 5-byte varint, tag 0x20) is the
  // last field of the last field, so it is the frame's last 5 bytes — whether relayed verbatim
  // or re-encoded by the server. Confirmed by the envelope's type; anything else is scanned.
  if (
    end - p >= 8 && b[end - 6] === 0x20 && (b[end - 5] & b[end - 4] & b[end - 3] & b[end - 2] & 0x80) !== 0 &&
    b[end - 1] >= 1 && b[end - 1] <= 15 && typeOf(b, p, end) === TYPE_POSITION
  ) {
    const v = (b[end - 5] & 0x7f) + (b[end - 4] & 0x7f) * 128 + (b[end - 3] & 0x7f) * 16384 +
      (b[end - 2] & 0x7f) * 2097152 + b[end - 1] * 268435456;
    return v - SEQ_BASE;
  }
  return scanAll(b, p, end);
}

/** The envelope's `type` when it comes right after a short message_id and a timestamp; else -1. */
function typeOf(b: Uint8Array, p: number, end: number): number {
  if (b[p] === 0x0a) {
    if (b[p + 1] & 0x80) return -1;
    p += 2 + b[p + 1];
  }
  if (b[p] === 0x10) {
    p++;
    while (p < end && b[p] & 0x80) p++;
    p++;
  }
  return p + 1 < end && b[p] === 0x18 ? b[p + 1] : -1;
}

function scanAll(b: Uint8Array, p: number, end: number): number {
  let type = 0;
  let seq = NOT_SEQ;
  while (p < end) {
    const tag = varint(b, p);
    p = P;
    const field = tag >>> 3;
    const wt = tag & 7;
    if (wt === 0) {
      const v = varint(b, p);
      p = P;
      if (field === 3) type = v;
    } else if (wt === 2) {
      const len = varint(b, p);
      p = P;
      if (field === 20) seq = positionSeq(b, p, p + len);
      else if (field === 40) seq = chatSeq(b, p, p + len);
      p += len;
    } else if (wt === 1) p += 8;
    else if (wt === 5) p += 4;
    else return NOT_SEQ;
  }
  if (type === TYPE_ERROR) return SERVER_ERROR;
  return type === TYPE_POSITION || type === TYPE_CHAT ? seq : NOT_SEQ;
}

/** The room sequence (envelope field 4) and epoch (field 5) of the last frame read by {@link readEnvelopeSeq}. */
export const envelope = { seq: 0, epoch: 0 };

/** Reads a frame's top-level `seq` and `epoch` into {@link envelope} (0 when absent). */
export function readEnvelopeSeq(b: Uint8Array, p: number, end: number): void {
  envelope.seq = 0;
  envelope.epoch = 0;
  const varint = () => {
    let v = 0;
    let mul = 1;
    let x;
    do {
      x = b[p++];
      v += (x & 0x7f) * mul;
      mul *= 128;
    } while (x & 0x80 && p < end);
    return v;
  };
  while (p < end) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const v = varint();
      if (field === 4) envelope.seq = v;
      else if (field === 5) envelope.epoch = v;
    } else if (wire === 2) p += varint();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else return;
  }
}

/** A protobuf `ACK` (type 51, `ack` = field 61: seq, epoch), as the SDK sends it. */
export function ackMessage(seq: number, epoch: number): Uint8Array {
  return new Uint8Array([...tag(3, 0), 51, ...ld(61, [...tag(1, 0), ...varintBytes(seq), ...tag(2, 0), ...varintBytes(epoch)])]);
}
