/**
 * The bytes a broadcast leaves in the room log and sends over the cluster bus:
 * `flags ‖ sender ‖ only ‖ payload`, where the payload — an encoded `Message` for typed
 * messages — comes LAST so the log can append `seq`/`epoch` to it (see src/cluster/types.ts).
 * For a protobuf recipient the payload of a log entry is already the frame to send.
 * @module
 */
import { Outbound } from "../protocol/codec.ts";
import { decodeBinary } from "../protocol/proto.ts";

const RELIABLE = 1;
const KIND_SHIFT = 4;
/** What a bus/log frame carries. */
export const FrameKind = { Typed: 0, RawText: 1 } as const;

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

function putString(out: number[], s: string): void {
  const b = enc.encode(s);
  let n = b.length;
  while (n > 0x7f) out.push((n & 0x7f) | 0x80), (n >>>= 7);
  out.push(n);
  for (const x of b) out.push(x);
}

/** `header ‖ payload` for the log or the bus. */
export function encodeFrame(meta: FrameMeta, payload: Uint8Array): Uint8Array {
  const head: number[] = [(meta.reliable ? RELIABLE : 0) | (meta.kind << KIND_SHIFT)];
  putString(head, meta.sender);
  putString(head, meta.only);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

/** Splits a frame into its meta and payload (a view, no copy). @throws on a truncated frame */
export function decodeFrame(frame: Uint8Array): FrameMeta & { payload: Uint8Array } {
  let i = 1;
  const str = (): string => {
    let n = 0, shift = 0, b: number;
    do {
      if (i >= frame.length) throw new Error("Truncated frame header");
      b = frame[i++];
      n |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (i + n > frame.length) throw new Error("Truncated frame header");
    const s = dec.decode(frame.subarray(i, i + n));
    i += n;
    return s;
  };
  const flags = frame[0];
  const sender = str();
  const only = str();
  return { reliable: (flags & RELIABLE) !== 0, kind: flags >> KIND_SHIFT, sender, only, payload: frame.subarray(i) };
}

/**
 * The Outbound of a typed frame's payload: its protobuf bytes are the payload itself (no
 * re-encode); JSON is encoded from the decoded message when a JSON recipient needs it.
 */
export function outboundOf(payload: Uint8Array): Outbound {
  return Outbound.fromProtobuf(decodeBinary(payload), payload);
}
