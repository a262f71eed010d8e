/**
 * POSE_BATCH encoding: each pose is encoded once per format (and once more with its entity id,
 * for the first mention), and a client's batch is those entries joined behind a fixed header —
 * no full encode per client. Layout in docs/protocol.md ("Batches and interest").
 * @module
 */
import { varintLength, writeVarint } from "../../lib/varint.ts";
import { MessageType } from "../../protocol/types.ts";

const enc = new TextEncoder();
/** Millimetres per metre (positions) and units per 1 (rotation components). */
export const MM = 1000;
/** Rotation components travel as round(q × 4096). */
export const QUNIT = 4096;

/** The integer fields of a pose, in wire order x, y, z, qx, qy, qz, qw. */
export type PoseInts = [number, number, number, number, number, number, number];

const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

/** A Pose submessage as a repeated field 1 of PoseBatch: tag, length, fields (zeros omitted). */
export function poseEntry(slot: number, q: PoseInts, seq: number, id?: string): Uint8Array {
  const idBytes = id === undefined ? undefined : enc.encode(id);
  let body = 1 + varintLength(slot);
  if (idBytes) body += 1 + varintLength(idBytes.length) + idBytes.length;
  for (let i = 0; i < 7; i++) if (q[i] !== 0) body += 1 + varintLength(zigzag(q[i]));
  if (seq > 0) body += 1 + varintLength(seq);
  const out = new Uint8Array(1 + varintLength(body) + body);
  out[0] = 0x0a;
  let p = writeVarint(out, 1, body);
  out[p++] = 0x08;
  p = writeVarint(out, p, slot);
  if (idBytes) {
    out[p++] = 0x12;
    p = writeVarint(out, p, idBytes.length);
    out.set(idBytes, p);
    p += idBytes.length;
  }
  for (let i = 0; i < 7; i++) {
    if (q[i] === 0) continue;
    out[p++] = (i + 3) << 3; // fields 3..9, varint (sint32: zigzag)
    p = writeVarint(out, p, zigzag(q[i]));
  }
  if (seq > 0) {
    out[p++] = 0x50;
    p = writeVarint(out, p, seq);
  }
  return out;
}

const KEYS = ["x", "y", "z", "qx", "qy", "qz", "qw"];

/** The JSON object text of a pose (snake_case like every JSON payload; zeros omitted). */
export function poseJson(slot: number, q: PoseInts, seq: number, id?: string): string {
  let s = `{"slot":${slot}`;
  if (id !== undefined) s += `,"entity_id":${JSON.stringify(id)}`;
  for (let i = 0; i < 7; i++) if (q[i] !== 0) s += `,"${KEYS[i]}":${q[i]}`;
  if (seq > 0) s += `,"sequence_number":${seq}`;
  return s + "}";
}

/** Message field 90 (pose_batch), wire type 2. */
const BATCH_TAG = [0xd2, 0x05];

/**
 * A protobuf POSE_BATCH frame: Message{timestamp, type = POSE_BATCH, pose_batch{entries}} with
 * `parts` (encoded entries, or runs of them) copied in once.
 */
export function batchFrame(timestamp: number, parts: readonly Uint8Array[], bytes: number): Uint8Array {
  const head = 1 + varintLength(timestamp) + 2 + BATCH_TAG.length + varintLength(bytes);
  const out = new Uint8Array(head + bytes);
  out[0] = 0x10;
  let p = writeVarint(out, 1, timestamp);
  out[p++] = 0x18;
  out[p++] = MessageType.POSE_BATCH;
  out[p++] = BATCH_TAG[0];
  out[p++] = BATCH_TAG[1];
  p = writeVarint(out, p, bytes);
  for (const part of parts) {
    const n = part.length;
    if (n < 64) for (let i = 0; i < n; i++) out[p + i] = part[i]; // small entries: a loop beats set()
    else out.set(part, p);
    p += n;
  }
  return out;
}

/** The JSON POSE_BATCH frame around `entries` (pose objects, or comma-joined runs of them). */
export function batchJson(timestamp: number, entries: readonly string[]): string {
  return `{"type":"POSE_BATCH","message_id":"","timestamp":${timestamp},"payload":{"poses":[${entries.join(",")}]}}`;
}

/** The pose integers of a position and rotation (missing rotation: identity). */
export function poseInts(
  position: { x?: number; y?: number; z?: number } | undefined,
  rotation: { x?: number; y?: number; z?: number; w?: number } | undefined,
): PoseInts {
  const r = (v: number | undefined, unit: number, lim: number) => {
    const n = Math.round((v ?? 0) * unit);
    return Number.isFinite(n) ? Math.max(-lim, Math.min(lim, n)) : 0;
  };
  const L = 2 ** 31 - 1;
  return [
    r(position?.x, MM, L), r(position?.y, MM, L), r(position?.z, MM, L),
    r(rotation?.x, QUNIT, QUNIT), r(rotation?.y, QUNIT, QUNIT), r(rotation?.z, QUNIT, QUNIT),
    rotation ? r(rotation.w, QUNIT, QUNIT) : QUNIT,
  ];
}
