/**
 * The protobuf side of the protocol: the compiled-in schema, binary decode and encode.
 * @module
 */
import protobuf from "protobufjs/light.js";
import { SCHEMA } from "./schema.generated.ts";
import { PAYLOAD_OF_TYPE, type Envelope } from "./types.ts";

// int64 fields decode to plain numbers (ms timestamps and sequences stay far below 2^53).
protobuf.util.Long = null as never;
protobuf.configure();

/** The resolved graphwiz.core schema. */
export const root = protobuf.Root.fromJSON(SCHEMA as protobuf.INamespace);
root.resolveAll();
/** The envelope type. */
export const MessageProto = root.lookupType("graphwiz.core.Message");

/** Why a frame was refused. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

/**
 * Decodes one binary frame into an envelope whose payload matches its `type`.
 * @throws {DecodeError} when the bytes are not a valid Message or type and payload disagree.
 */
export function decodeBinary(bytes: Uint8Array): Envelope {
  let msg: Envelope;
  try {
    msg = MessageProto.decode(bytes) as unknown as Envelope;
  } catch (e) {
    throw new DecodeError(`Binary frame is not a valid Message: ${(e as Error).message}`);
  }
  checkPayload(msg);
  return msg;
}

/** Throws unless the envelope's payload is the one its `type` names. */
export function checkPayload(msg: Envelope): void {
  const expected = PAYLOAD_OF_TYPE[msg.type ?? 0];
  if (!expected) throw new DecodeError(`Message type ${msg.type ?? 0} is not one a client may send`);
  if (msg.payload !== expected) {
    throw new DecodeError(`Message type ${msg.type} needs a ${expected} payload, got ${msg.payload ?? "none"}`);
  }
}

/** Encodes an envelope (its `payload` field names the set payload). */
export function encodeBinary(msg: Envelope): Uint8Array {
  return MessageProto.encode(msg as protobuf.Message).finish();
}
