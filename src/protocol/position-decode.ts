/**
 * A fast path for the hottest inbound frame, a binary POSITION_UPDATE: decodes it into the
 * envelope protobufjs would make, without protobufjs. protobufjs' decoder sets the `payload`
 * oneof through a setter that deletes every other payload field, and each `msg.payload` read
 * then scans `Object.keys`; here the envelope is a plain object with `payload` as a field.
 *
 * Only the usual layout is taken: the envelope's `message_id`, `timestamp`, `type` (= 10) and
 * `position_update`, the update's `entity_id`, `position`, `rotation`, `sequence_number`, and
 * the vectors' floats — each at most once, with its own wire type, strings ASCII, varints short
 * enough to be exact. Anything else (an unknown or repeated field, a wrong wire type, `seq`/
 * `epoch`, UTF-8, a long varint, a truncation) returns `undefined` and the caller decodes with
 * protobufjs, so what is accepted is exactly what protobufjs accepts for these frames.
 * The update and its vectors are made with protobufjs' own constructors (their prototypes give
 * the defaults of absent fields), and, as in protobufjs, a field is set only when its value is
 * not the default. Property-tested against protobufjs (test/unit/position-decode.test.ts).
 * @module
 */
import type protobuf from "protobufjs/light.js";
import { MessageProto } from "./proto.ts";
import { at, decoded, varint } from "./stamp.ts";
import { MessageType, type Envelope, type PositionUpdate } from "./types.ts";

/** A protobufjs message constructor (its prototype holds the defaults). */
export type Ctor = new () => Record<string, unknown>;
const updateType = MessageProto.fields.position_update!.resolvedType as protobuf.Type;
const UpdateCtor = updateType.ctor as unknown as Ctor;
const Vector3Ctor = (updateType.fields.position!.resolvedType as protobuf.Type).ctor as unknown as Ctor;
const QuaternionCtor = (updateType.fields.rotation!.resolvedType as protobuf.Type).ctor as unknown as Ctor;

// Floats are read through one shared 4-byte buffer (little-endian, as protobuf writes them).
const F32 = new Float32Array(1);
const F32B = new Uint8Array(F32.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Varints of at most 7 bytes (< 2^49: exact); longer ones go to protobufjs.
export const MAX_VARINT = 7;

/**
 * The end of the length-delimited value whose length (a short varint) is at `s`, or -1 when it
 * runs past `e`; the value starts at `at` (stamp.ts's reader position).
 */
export function delimited(b: Uint8Array, s: number, e: number): number {
  const len = varint(b, s, e, MAX_VARINT);
  return len < 0 || at + len > e ? -1 : at + len;
}

/** The ASCII string `b[s, e)`, or undefined when a byte is not ASCII. */
export function ascii(b: Uint8Array, s: number, e: number): string | undefined {
  let out = "";
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c >= 0x80) return undefined;
    out += String.fromCharCode(c);
  }
  return out;
}

/** A Vector3 (`n` = 3) or Quaternion (`n` = 4) from `b[s, e)`: fixed32 floats 1..n, each at most once. */
function vector(b: Uint8Array, s: number, e: number, n: number, Ctor: Ctor): Record<string, unknown> | undefined {
  const v = new Ctor();
  let seen = 0;
  while (s < e) {
    const tag = b[s]!; // fields 1..4 with wire type 5 are one-byte tags: 0x0d, 0x15, 0x1d, 0x25
    const f = tag >> 3;
    if ((tag & 0x87) !== 5 || f < 1 || f > n || seen & (1 << f) || s + 5 > e) return undefined;
    seen |= 1 << f;
    F32B[0] = b[s + 1]!, F32B[1] = b[s + 2]!, F32B[2] = b[s + 3]!, F32B[3] = b[s + 4]!;
    const x = F32[0]!;
    // protobufjs leaves a +0 out (and keeps -0); named stores keep the property accesses monomorphic.
    if (!Object.is(x, 0)) {
      if (f === 1) v.x = x;
      else if (f === 2) v.y = x;
      else if (f === 3) v.z = x;
      else v.w = x;
    }
    s += 5;
  }
  return v;
}

/** The PositionUpdate in `b[s, e)`, or undefined when its layout is not the usual one. */
function update(b: Uint8Array, s: number, e: number): PositionUpdate | undefined {
  const u = new UpdateCtor();
  const spans = decoded.spans;
  spans[0] = spans[1] = spans[2] = spans[3] = spans[4] = spans[5] = spans[6] = spans[7] = -1;
  let seen = 0;
  while (s < e) {
    const fieldStart = s;
    const tag = b[s++]!;
    const f = tag >> 3;
    if (tag & 0x80 || f < 1 || f > 4 || seen & (1 << f)) return undefined; // fields 1..4 have one-byte tags
    seen |= 1 << f;
    if (f === 4) {
      if ((tag & 7) !== 0) return undefined;
      const v = varint(b, s, e, MAX_VARINT);
      if (v < 0 || v > 0xffffffff) return undefined;
      if (v !== 0) u.sequence_number = v;
      s = at;
      spans[6] = fieldStart;
      spans[7] = s;
      continue;
    }
    if ((tag & 7) !== 2) return undefined;
    const end = delimited(b, s, e);
    if (end < 0) return undefined;
    const vs = at;
    s = end;
    spans[(f - 1) * 2] = fieldStart;
    spans[(f - 1) * 2 + 1] = s;
    if (f === 1) {
      const id = ascii(b, vs, s);
      if (id === undefined) return undefined;
      if (id.length > 0) u.entity_id = id;
    } else {
      const v = f === 2 ? vector(b, vs, s, 3, Vector3Ctor) : vector(b, vs, s, 4, QuaternionCtor);
      if (!v) return undefined;
      if (f === 2) u.position = v;
      else u.rotation = v;
    }
  }
  return u as PositionUpdate;
}

/** What {@link envelope} read besides the payload, and where (module state: no object per frame). */
export const env = { id: "", timestamp: 0, typeS: -1, typeE: -1, innerS: -1, innerE: -1 };
/** The payload field's bit in {@link envelope}'s `seen` (the other fields' numbers are 1..15). */
const PAYLOAD = 16;

/**
 * Walks an envelope of `type` whose payload is the field with the two-byte tag `tag0 tag1`
 * (wire type 2), read by `inner`: `message_id`, `timestamp`, `type` (= `type`) and the payload,
 * each at most once, with their own wire types, the id ASCII, varints short. Returns the
 * payload, with the rest in {@link env}; `undefined` for any other layout.
 */
export function envelope<P>(b: Uint8Array, type: number, tag0: number, tag1: number, inner: (b: Uint8Array, s: number, e: number) => P | undefined): P | undefined {
  const n = b.length;
  let t = 0, p: P | undefined, seen = 0, pos = 0;
  env.id = "";
  env.timestamp = 0;
  while (pos < n) {
    const fieldStart = pos;
    const tag = b[pos]!;
    let f: number;
    if (tag === tag0 && b[pos + 1] === tag1) (f = PAYLOAD), (pos += 2);
    else if (tag & 0x80) return undefined;
    else (f = tag >> 3), pos++;
    if (seen & (1 << f)) return undefined;
    seen |= 1 << f;
    const wt = f === PAYLOAD ? 2 : tag & 7;
    if (f === 2 || f === 3) {
      if (wt !== 0) return undefined;
      const v = varint(b, pos, n, MAX_VARINT);
      if (v < 0) return undefined;
      if (f === 2) env.timestamp = v;
      else if (v !== type) return undefined;
      else (t = v), (env.typeS = fieldStart), (env.typeE = at);
      pos = at;
    } else if (f === 1 || f === PAYLOAD) {
      if (wt !== 2) return undefined;
      const end = delimited(b, pos, n);
      if (end < 0) return undefined;
      const s = at;
      pos = end;
      if (f === 1) {
        const s2 = ascii(b, s, pos);
        if (s2 === undefined) return undefined;
        env.id = s2;
      } else if (!(p = inner(b, s, pos))) return undefined;
      else (env.innerS = s), (env.innerE = pos);
    } else return undefined;
  }
  return t === 0 ? undefined : p;
}

/**
 * The envelope of a binary POSITION_UPDATE in its usual layout, as protobufjs would decode it;
 * `undefined` for any other frame (decode it with protobufjs). Never throws.
 */
export function decodePosition(b: Uint8Array): Envelope | undefined {
  decoded.frame = undefined; // until this frame's layout is known (stamp.ts)
  if (!LITTLE_ENDIAN) return undefined;
  const pu = envelope(b, MessageType.POSITION_UPDATE, 0xa2, 0x01, update); // field 20
  if (!pu) return undefined;
  (decoded.typeS = env.typeS), (decoded.typeE = env.typeE), (decoded.innerS = env.innerS), (decoded.innerE = env.innerE);
  decoded.frame = b;
  // Absent fields read as protobufjs' defaults would; the server sets seq, epoch and message_id next (sanitize.ts).
  return { type: MessageType.POSITION_UPDATE, message_id: env.id, timestamp: env.timestamp, seq: 0, epoch: 0, payload: "position_update", position_update: pu };
}
