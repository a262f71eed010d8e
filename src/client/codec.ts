/**
 * Wire formats. JSON is built in; protobuf is loaded on demand (`import("./protobuf.ts")`, a
 * separate file in the package), so a JSON-only client never downloads protobufjs.
 * @module
 */
import type { Envelope } from "../protocol/types.ts";
import { GraphwizError } from "./errors.ts";
import { encodeJson } from "./json.ts";

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
