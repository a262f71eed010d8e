/**
 * Frames ↔ envelopes. A binary frame is exactly one protobuf `Message`; a text frame is JSON.
 * A JSON object whose `type` names a `MessageType` is typed; any other text is relayed as is.
 * Outgoing messages are encoded at most once per format ({@link Outbound}).
 * @module
 */
import { DecodeError, decodeBinary, encodeBinary } from "./proto.ts";
import { objectIn, objectOut, payloadType } from "./json.ts";
import { MessageType, PAYLOAD_OF_TYPE, PresenceEventType, TYPE_NAME, type Envelope, type PayloadCase, type Format } from "./types.ts";
import { decodeChat } from "./chat-decode.ts";
import { decodePosition } from "./position-decode.ts";
import { encodeXr, isXrFrame, parseXr } from "./xr.ts";

/** What a text frame turned out to be. */
export type TextFrame =
  | { kind: "typed"; msg: Envelope }
  | { kind: "raw" }
  | { kind: "bad"; error: DecodeError; ref?: string };

const ENVELOPE_KEYS = new Set(["type", "message_id", "messageId", "timestamp", "seq", "epoch", "payload"]);
const PRESENCE_OF_TYPE: Record<number, number> = {
  [MessageType.PRESENCE_JOIN]: PresenceEventType.JOIN,
  [MessageType.PRESENCE_LEAVE]: PresenceEventType.LEAVE,
  [MessageType.PRESENCE_UPDATE]: PresenceEventType.UPDATE,
};

/** Resolves a JSON `type` (name or number) to a MessageType number, if it is one. */
function typeOf(t: unknown): number | undefined {
  if (typeof t === "string") return Object.hasOwn(MessageType, t) ? MessageType[t as keyof typeof MessageType] : undefined;
  if (typeof t === "number") return TYPE_NAME[t] !== undefined ? t : undefined;
  return undefined;
}

/** Classifies and, when typed, decodes a text frame. Never throws. */
export function parseText(text: string): TextFrame {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return { kind: "raw" };
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return { kind: "raw" };
  const o = obj as Record<string, unknown>;
  const type = typeOf(o.type);
  if (type === undefined) return { kind: "raw" };
  const ref = typeof o.message_id === "string" ? o.message_id : typeof o.messageId === "string" ? o.messageId : undefined;
  try {
    return { kind: "typed", msg: fromJsonObject(type, o) };
  } catch (e) {
    if (e instanceof DecodeError) return { kind: "bad", error: e, ref };
    return { kind: "bad", error: new DecodeError(String(e)), ref };
  }
}

function fromJsonObject(type: number, o: Record<string, unknown>): Envelope {
  const kase = PAYLOAD_OF_TYPE[type];
  if (!kase) throw new DecodeError(`Message type ${TYPE_NAME[type]} is not one a client may send`);
  const nested = typeof o.payload === "object" && o.payload !== null && !Array.isArray(o.payload);
  const src: Record<string, unknown> = nested ? { ...(o.payload as Record<string, unknown>) } : {};
  if (!nested) for (const k in o) if (!ENVELOPE_KEYS.has(k)) src[k] = o[k];
  if (kase === "chat_message") {
    // The seed's {"type":"CHAT_MESSAGE","text":…}; top-level chat fields can't be called `type`.
    if (src.message === undefined && src.text !== undefined) src.message = src.text;
    if (src.chat_type !== undefined) src.type = src.chat_type;
    if (src.chatType !== undefined) src.type = src.chatType;
  }
  // {"type":"ACK","seq":N}: `seq` at top level is the ack's, not the envelope's.
  if (kase === "ack" && !nested && src.seq === undefined) src.seq = o.seq;
  const payload = objectIn(payloadType(kase), src, kase);
  if (kase === "presence_event") {
    const implied = PRESENCE_OF_TYPE[type];
    if (payload.event_type === undefined) payload.event_type = implied;
    else if (payload.event_type !== implied) throw new DecodeError(`${TYPE_NAME[type]} needs event_type ${implied}`);
  }
  const id = o.message_id ?? o.messageId;
  if (id !== undefined && typeof id !== "string") throw new DecodeError("Field message_id must be a string");
  // A client timestamp is kept only to measure message age; the server stamps its own.
  const timestamp = typeof o.timestamp === "number" && Number.isFinite(o.timestamp) ? o.timestamp : 0;
  return { type, message_id: (id as string) ?? "", timestamp, payload: kase, [kase]: payload } as Envelope;
}

/**
 * Decodes a binary frame, or says why not. Never throws. A frame with the xr layout (see
 * {@link isXrFrame}) is an xr frame, any other a protobuf `Message`; `xr` says which.
 */
export function parseBinary(bytes: Uint8Array): { msg: Envelope; xr?: boolean } | { error: DecodeError; ref?: string } {
  if (isXrFrame(bytes)) {
    const r = parseXr(bytes);
    return "msg" in r ? { msg: r.msg, xr: true } : r;
  }
  // The hot path (a position update in its usual layout) skips protobufjs; see position-decode.ts.
  const pos = decodePosition(bytes) ?? decodeChat(bytes); // and every chat (chat-decode.ts)
  if (pos) return { msg: pos };
  try {
    return { msg: decodeBinary(bytes) };
  } catch (e) {
    return { error: e instanceof DecodeError ? e : new DecodeError(String(e)) };
  }
}

/** Types whose JSON form is flat (`{"type":"ERROR","code":…}`) rather than under `payload`. */
const FLAT = new Set<PayloadCase>(["error", "pong"]);

/** The JSON text of an envelope: `{"type","message_id","timestamp",["seq","epoch"],"payload":{…}}`. */
export function toJsonText(msg: Envelope): string {
  const kase = msg.payload;
  const out: Record<string, unknown> = { type: TYPE_NAME[msg.type ?? 0] ?? msg.type, message_id: msg.message_id ?? "", timestamp: msg.timestamp ?? 0 };
  if (msg.seq) {
    out.seq = msg.seq;
    out.epoch = msg.epoch ?? 0;
  }
  if (kase) {
    const body = objectOut(payloadType(kase), msg[kase] as Record<string, unknown>);
    if (FLAT.has(kase)) Object.assign(out, body);
    else out.payload = body;
  }
  return JSON.stringify(out);
}

/** How many times each encoder ran (for the encode-once test and metrics). */
export const encodeCounts = { json: 0, protobuf: 0, xr: 0 };

/**
 * One outgoing message, encoded lazily and at most once per format, however many recipients.
 */
export class Outbound {
  #json?: string;
  #protobuf?: Uint8Array;
  #xr?: string | Uint8Array;
  constructor(readonly msg: Envelope) {}

  /** An Outbound whose protobuf bytes were made by stamping the client's (counted as the one protobuf encode). */
  static stamped(msg: Envelope, bytes: Uint8Array): Outbound {
    encodeCounts.protobuf++;
    return Outbound.fromProtobuf(msg, bytes);
  }

  /** An Outbound whose protobuf encoding is already known (e.g. read back from the room log). */
  static fromProtobuf(msg: Envelope, bytes: Uint8Array): Outbound {
    const o = new Outbound(msg);
    o.#protobuf = bytes;
    return o;
  }
  /**
   * Makes its protobuf bytes a buffer of their own when they are a view into a shared slab
   * (lib/frame-alloc.ts), for an Outbound kept long (the latest pose per entity): a view would
   * keep its whole slab alive. Returns itself.
   */
  owned(): this {
    const b = this.#protobuf;
    if (b !== undefined && b.byteLength !== b.buffer.byteLength) this.#protobuf = b.slice();
    return this;
  }
  json(): string {
    if (this.#json === undefined) {
      encodeCounts.json++;
      this.#json = toJsonText(this.msg);
    }
    return this.#json;
  }
  protobuf(): Uint8Array {
    if (this.#protobuf === undefined) {
      encodeCounts.protobuf++;
      this.#protobuf = encodeBinary(this.msg);
    }
    return this.#protobuf;
  }
  /** The xr frame (binary; a PONG is text, see xr.ts). */
  xr(): string | Uint8Array {
    if (this.#xr === undefined) {
      encodeCounts.xr++;
      this.#xr = encodeXr(this.msg);
    }
    return this.#xr;
  }
  /** The frame for a recipient of `format`. */
  frame(format: Format): string | Uint8Array {
    return format === "json" ? this.json() : format === "protobuf" ? this.protobuf() : this.xr();
  }
}
