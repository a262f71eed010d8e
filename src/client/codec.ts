/**
 * Wire formats and the socket's edges: JSON is built in; protobuf is loaded on demand
 * (`import("./protobuf.ts")`, a separate file in the package), so a JSON-only client never
 * downloads protobufjs. Also what a frame from the socket decodes to, and the upgrade URL.
 * @module
 */
import type { Envelope } from "../protocol/types.ts";
import { GraphwizError } from "./errors.ts";
import type { ClientOptions } from "./events.ts";
import { decodeJson, encodeJson, type ServerFrame } from "./json.ts";

/** The frames a client receives and sends. */
export type Format = "json" | "protobuf";

/** How one format encodes what the client sends and decodes the server's binary frames. */
export interface Codec {
  readonly format: Format;
  encode(msg: Envelope): string | Uint8Array;
  /** Decodes a binary frame; throws when it is not a valid message. Absent for JSON. */
  decodeBinary?(bytes: Uint8Array): Envelope;
}

/** The JSON codec (text frames; server text is decoded by `decodeJson` in every format). */
export const jsonCodec: Codec = { format: "json", encode: encodeJson };

/** Resolves the codec of `format`, loading protobuf support the first time it is asked for. */
export async function loadCodec(format: Format): Promise<Codec> {
  if (format !== "protobuf") return jsonCodec;
  let codec: Codec | undefined;
  try {
    codec = (await import("./protobuf.ts")).protobufCodec;
  } catch (e) {
    throw new GraphwizError("CODEC_UNAVAILABLE", `Could not load the protobuf codec: ${(e as Error).message}`);
  }
  if (!codec?.decodeBinary) throw new GraphwizError("CODEC_UNAVAILABLE", "The protobuf codec module has no protobufCodec export");
  return codec;
}

/** Decodes what a socket delivered: text as JSON, bytes with `codec` (raw when it cannot). Never throws. */
export function decodeFrame(data: unknown, codec: Codec): ServerFrame {
  if (typeof data === "string") return decodeJson(data);
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(0);
  try {
    return codec.decodeBinary ? { kind: "message", msg: codec.decodeBinary(bytes) } : { kind: "raw", data: bytes };
  } catch {
    return { kind: "raw", data: bytes };
  }
}

/** The upgrade URL of a (re)connect: the options as query parameters, and the session to resume, if any. */
export function upgradeUrl(o: ClientOptions, clientId: string | undefined, resume?: { session: string; lastSeq: number; epoch: number }): string {
  const q = new URLSearchParams({ ...o.query, format: o.format ?? "json" });
  if (o.userId) q.set("user_id", o.userId);
  if (clientId) q.set("client_id", clientId);
  if (o.displayName) q.set("display_name", o.displayName);
  if (o.token && !o.tokenInFirstMessage) q.set("token", o.token);
  if (o.reliable) q.set("ack", "1");
  if (o.batch !== false) q.set("batch", "1");
  if (resume) {
    q.set("resume", resume.session);
    q.set("last_seq", String(resume.lastSeq));
    q.set("epoch", String(resume.epoch));
  }
  return `${o.url.replace(/\/$/, "")}/ws/${encodeURIComponent(o.room)}?${q}`;
}
