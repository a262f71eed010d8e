/**
 * The SDK's JSON codec, without protobufjs (so a JSON-only client stays small). Decodes the
 * server's JSON into the same in-memory shape the protobuf codec gives: enums as numbers, bytes
 * as `Uint8Array`, int64 as numbers. The few enum and bytes fields are listed here; a unit test
 * checks the lists against proto/graphwiz.proto so a new schema field cannot be missed.
 * @module
 */
import { MessageType, PAYLOAD_OF_TYPE, TYPE_NAME, type Envelope, type PayloadCase } from "../protocol/types.ts";

/** The JSON SERVER_HELLO (first frame of every connection). */
export interface HelloInfo {
  type: "SERVER_HELLO";
  room_id: string;
  client_id: string;
  connection_id: string;
  server_version: string;
  /** Unix seconds (the seed's contract). */
  timestamp: number;
  user_id: string | null;
  format: "json" | "protobuf";
  initial_state?: {
    players?: Record<string, unknown>[];
    entities?: Record<string, unknown>[];
    last_update?: number;
  };
  /** The room's host (its longest-present member). */
  host_client_id?: string;
  /** Reliable clients: the session to resume, and whether this hello resumed one. */
  session_id?: string;
  resumed?: boolean;
  epoch?: number;
  last_seq?: number;
  [key: string]: unknown;
}

/** A decoded server frame. */
export type ServerFrame =
  | { kind: "hello"; hello: HelloInfo }
  | { kind: "message"; msg: Envelope }
  | { kind: "raw"; data: string | Uint8Array };

/** Enum fields of payloads (payload.field → name → number). */
export const JSON_ENUMS: Record<string, Record<string, number>> = {
  "chat_message.type": { NORMAL: 0, WHISPER: 1, SHOUT: 2 },
  "presence_event.event_type": { JOIN: 0, LEAVE: 1, UPDATE: 2 },
  "voice_data.codec": { OPUS: 0, PCMU: 1, PCMA: 2 },
  "moderation.action": { KICK: 0, MUTE: 1, UNMUTE: 2, LOCK: 3, UNLOCK: 4 },
};
/** Bytes fields of payloads: `value` (one base64 string) or `map` (string → base64). */
export const JSON_BYTES: Record<string, "value" | "map"> = {
  "voice_data.audio_data": "value",
  "entity_update.components": "map",
};

/** Types whose JSON form is flat (`{"type":"ERROR","code":…}`) rather than under `payload`. */
const FLAT = new Set<PayloadCase>(["error", "pong"]);
const ENVELOPE_KEYS = new Set(["type", "message_id", "timestamp", "seq", "epoch"]);

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Standard base64 of bytes. */
export function bytesToBase64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + (i + 1 < bytes.length ? B64[(n >> 6) & 63]! : "=") + (i + 2 < bytes.length ? B64[n & 63]! : "=");
  }
  return out;
}
/** Bytes of a base64 string (standard or URL alphabet, padding optional). */
export function base64ToBytes(s: string): Uint8Array {
  const clean = s.replace(/[=\s]/g, "").replace(/-/g, "+").replace(/_/g, "/");
  const out = new Uint8Array((clean.length * 3) >> 2);
  let bits = 0, acc = 0, j = 0;
  for (const ch of clean) {
    const v = B64.indexOf(ch);
    if (v < 0) throw new Error("Not base64");
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 255;
    }
  }
  return out.subarray(0, j);
}

/** Converts one payload from the server's JSON to the in-memory shape. */
function payloadIn(kase: PayloadCase, body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in body) {
    if (FLAT.has(kase) && ENVELOPE_KEYS.has(key) && !(kase === "accepted" && (key === "seq" || key === "epoch"))) continue;
    const v = body[key];
    const path = `${kase}.${key}`;
    const names = JSON_ENUMS[path];
    const bytes = JSON_BYTES[path];
    if (names && typeof v === "string") out[key] = names[v] ?? v;
    else if (bytes === "value" && typeof v === "string") out[key] = base64ToBytes(v);
    else if (bytes === "map" && v && typeof v === "object") {
      const m: Record<string, unknown> = {};
      for (const k in v as Record<string, unknown>) {
        const b = (v as Record<string, unknown>)[k];
        m[k] = typeof b === "string" ? base64ToBytes(b) : b;
      }
      out[key] = m;
    } else out[key] = v;
  }
  return out;
}

/** Decodes a text frame from the server; text that is not a typed message comes back as `raw`. Never throws. */
export function decodeJson(data: string): ServerFrame {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(data);
  } catch {
    return { kind: "raw", data };
  }
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) return { kind: "raw", data };
  if (obj.type === "SERVER_HELLO" && typeof obj.connection_id === "string") return { kind: "hello", hello: obj as unknown as HelloInfo };
  const type = typeof obj.type === "string" ? MessageType[obj.type as keyof typeof MessageType] : typeof obj.type === "number" && TYPE_NAME[obj.type] ? obj.type : undefined;
  const kase = type === undefined ? undefined : PAYLOAD_OF_TYPE[type];
  const body = kase && FLAT.has(kase) ? obj : obj.payload ?? {};
  if (!kase || typeof body !== "object" || body === null || Array.isArray(body)) return { kind: "raw", data };
  try {
    const own = true;
    const msg = {
      type,
      message_id: typeof obj.message_id === "string" ? obj.message_id : "",
      timestamp: typeof obj.timestamp === "number" ? obj.timestamp : 0,
      seq: own && typeof obj.seq === "number" ? obj.seq : 0,
      epoch: own && typeof obj.epoch === "number" ? obj.epoch : 0,
      payload: kase,
      [kase]: payloadIn(kase, body as Record<string, unknown>),
    };
    return { kind: "message", msg: msg as Envelope };
  } catch {
    return { kind: "raw", data };
  }
}

/** The JSON text of an envelope as the server reads it: type by name, bytes as base64. */
export function encodeJson(msg: Envelope): string {
  const kase = msg.payload;
  const out = { type: TYPE_NAME[msg.type ?? 0] ?? msg.type, message_id: msg.message_id ?? "", timestamp: msg.timestamp ?? 0, payload: kase ? msg[kase] : {} };
  return JSON.stringify(out, (_k, v) => (v instanceof Uint8Array ? bytesToBase64(v) : v));
}
