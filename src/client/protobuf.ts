/**
 * Protobuf support for the SDK, a separate entry (`graphwiz-ws-client/protobuf`) that the client
 * loads only when `format: "protobuf"` is asked for. It carries protobufjs (light) and the
 * compiled-in schema of proto/graphwiz.proto.
 * @module
 */
import * as proto from "../protocol/proto.ts";
import type { Envelope } from "../protocol/types.ts";
import type { Codec } from "./codec.ts";

/**
 * Decodes one binary frame (a `graphwiz.core.Message`) into an envelope.
 * @throws {Error} when the bytes are not a valid Message or its payload does not match its type.
 */
export const decodeBinary: (bytes: Uint8Array) => Envelope = proto.decodeBinary;
/** Encodes an envelope as one binary frame. */
export const encodeBinary: (msg: Envelope) => Uint8Array = proto.encodeBinary;

/** The protobuf codec: binary frames, one `graphwiz.core.Message` each. */
export const protobufCodec: Codec = { format: "protobuf", encode: encodeBinary, decodeBinary };
