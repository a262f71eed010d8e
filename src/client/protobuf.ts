/**
 * Protobuf support for the SDK, a separate entry (`graphwiz-ws-client/protobuf`) that the client
 * loads only when `format: "protobuf"` is asked for. It carries protobufjs (light) and the
 * compiled-in schema of proto/graphwiz.proto.
 * @module
 */
import { decodeBinary, encodeBinary } from "../protocol/proto.ts";
import type { Codec } from "./codec.ts";

/** The protobuf codec: binary frames, one `graphwiz.core.Message` each. */
export const protobufCodec: Codec = { format: "protobuf", encode: encodeBinary, decodeBinary };

export { decodeBinary, encodeBinary };
