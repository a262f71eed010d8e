/** Server frames as the SDK sees them. @module */
import { objectIn, payloadType } from "../protocol/json.ts";
import { decodeBinary } from "../protocol/proto.ts";
import { MessageType, PAYLOAD_OF_TYPE, type Envelope, type PayloadCase } from "../protocol/types.ts";

/** The JSON SERVER_HELLO (first frame of every connection). */
export interface HelloInfo {
  type: "SERVER_HELLO";
  room_id: string;
  client_id: string;
  connection_id: string;
  server_version: string;
  timestamp: number;
  user_id: string | null;
  format: "json" | "protobuf";
  initial_state?: { players?: Record<string, unknown>[]; entities?: Record<string, unknown>[]; last_update?: number };
  session_id?: string;
  resumed?: boolean;
  [key: string]: unknown;
}

/** A decoded server frame. */
export type ServerFrame =
  | { kind: "hello"; hello: HelloInfo }
  | { kind: "message"; msg: Envelope }
  | { kind: "raw"; data: string | Uint8Array };

const FLAT = new Set<PayloadCase>(["error", "pong"]);

/** Decodes a frame from the server; text that is not a typed message comes back as `raw`. */
export function decodeServerFrame(data: string | Uint8Array): ServerFrame {
  if (typeof data !== "string") {
    try {
      return { kind: "message", msg: decodeBinary(data) };
    } catch {
      return { kind: "raw", data };
    }
  }
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(data);
  } catch {
    return { kind: "raw", data };
  }
  if (!obj || typeof obj !== "object") return { kind: "raw", data };
  if (obj.type === "SERVER_HELLO" && typeof obj.connection_id === "string") return { kind: "hello", hello: obj as unknown as HelloInfo };
  const type = typeof obj.type === "string" ? MessageType[obj.type as keyof typeof MessageType] : undefined;
  const kase = type === undefined ? undefined : PAYLOAD_OF_TYPE[type];
  if (!kase) return { kind: "raw", data };
  try {
    const body = FLAT.has(kase) ? obj : (obj.payload ?? {});
    const payload = objectIn(payloadType(kase), body, kase);
    return {
      kind: "message",
      msg: { type, message_id: obj.message_id as string, timestamp: obj.timestamp as number, seq: (obj.seq as number) ?? 0, epoch: (obj.epoch as number) ?? 0, payload: kase, [kase]: payload } as Envelope,
    };
  } catch {
    return { kind: "raw", data };
  }
}
