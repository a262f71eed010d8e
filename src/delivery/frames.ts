/**
 * The bytes a broadcast leaves in the room log and sends over the cluster bus:
 * `flags ‖ sender ‖ only ‖ payload`, where the payload — an encoded `Message` for typed
 * messages — comes LAST so the log can append `seq`/`epoch` to it (see src/cluster/types.ts).
 * For a protobuf recipient the payload of a log entry is already the frame to send.
 * @module
 */
import { allocFrame, tailOf } from "../lib/frame-alloc.ts";
import { VarintReader, varintLength, writeVarint } from "../lib/varint.ts";
import { Outbound } from "../protocol/codec.ts";
import { decodeBinary } from "../protocol/proto.ts";

const RELIABLE = 1;
const KIND_SHIFT = 4;
/**
 * What a bus/log frame carries: a typed message, relayed raw text, or a control notice between
 * instances (its payload is UTF-8 JSON, see core/remote.ts).
 */
export const FrameKind = { Typed: 0, RawText: 1, Control: 2 } as const;

/** Routing facts of a broadcast, kept with it. */
export interface FrameMeta {
  reliable: boolean;
  kind: number;
  /** The sender's client id (never receives it, also not on resume); "" for the server. */
  sender: string;
  /** Only this client id receives it (whispers, errors); "" for everyone. */
  only: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** `s` as bytes when it is not ASCII; undefined for ASCII (client ids nearly always are), written by a loop. */
function utf8IfNeeded(s: string): Uint8Array | undefined {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return enc.encode(s);
  return undefined;
}

/** Writes `s` (or its UTF-8 bytes `b`) with its length at `at`; returns the end. */
function writeText(out: Uint8Array, at: number, s: string, b: Uint8Array | undefined): number {
  if (b) {
    at = writeVarint(out, at, b.length);
    out.set(b, at);
    return at + b.length;
  }
  at = writeVarint(out, at, s.length);
  for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i);
  return at;
}

/** `header ‖ payload` for the log or the bus (ASCII ids are written as they are, with no encoded copy). */
export function encodeFrame(meta: FrameMeta, payload: Uint8Array): Uint8Array {
  const sender = utf8IfNeeded(meta.sender);
  const only = utf8IfNeeded(meta.only);
  const senderLen = sender?.length ?? meta.sender.length;
  const onlyLen = only?.length ?? meta.only.length;
  const head = 1 + varintLength(senderLen) + senderLen + varintLength(onlyLen) + onlyLen;
  const out = allocFrame(head + payload.length); // short-lived: the log and the bus copy it
  out[0] = (meta.reliable ? RELIABLE : 0) | (meta.kind << KIND_SHIFT);
  writeText(out, writeText(out, 1, meta.sender, sender), meta.only, only);
  out.set(payload, head);
  return out;
}

/** Splits a frame into its meta and payload (a view, no copy). @throws on a truncated frame */
export function decodeFrame(frame: Uint8Array): FrameMeta & { payload: Uint8Array } {
  const r = new VarintReader(frame);
  r.pos = 1;
  const str = (): string => {
    const n = r.read();
    if (n < 0 || r.pos + n > frame.length) throw new Error("Truncated frame header");
    const s = dec.decode(frame.subarray(r.pos, r.pos + n));
    r.pos += n;
    return s;
  };
  if (frame.length === 0) throw new Error("Empty frame");
  const flags = frame[0]!;
  const sender = str();
  const only = str();
  return { reliable: (flags & RELIABLE) !== 0, kind: flags >> KIND_SHIFT, sender, only, payload: frame.subarray(r.pos) };
}

/** The payload of a frame (a view, or a copy on Bun: see `tailOf`), skipping its header without decoding it. @throws on a truncated frame */
export function payloadOf(frame: Uint8Array): Uint8Array {
  const r = new VarintReader(frame);
  r.pos = 1;
  for (let i = 0; i < 2; i++) {
    const n = r.read();
    if (n < 0 || r.pos + n > frame.length) throw new Error("Truncated frame header");
    r.pos += n;
  }
  return tailOf(frame, r.pos);
}

/**
 * The Outbound of a typed frame's payload: its protobuf bytes are the payload itself (no
 * re-encode); JSON is encoded from the decoded message when a JSON recipient needs it.
 */
export function outboundOf(payload: Uint8Array): Outbound {
  return Outbound.fromProtobuf(decodeBinary(payload), payload);
}
