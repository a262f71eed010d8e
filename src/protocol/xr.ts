/**
 * GraphWiz-XR's own binary frames ("xr"), the third wire format beside JSON and protobuf:
 *
 *     [u8 n][n bytes messageId, UTF-8][u64 big-endian timestamp, ms][u8 type][payload: UTF-8 JSON]
 *
 * The payload is the message's fields in camelCase (enums as numbers, bytes as base64, an empty
 * payload means `{}`). Reading is strict about the layout and as tolerant about the payload as
 * GraphWiz-XR's web client needs (its PRESENCE_UPDATE is flat, its component values are JSON
 * values, its voice bytes are whatever `JSON.stringify` made of an ArrayBuffer). Writing always
 * produces what that client reads without a warning. The mapping to the other formats is in
 * docs/protocol.md ("xr frames").
 * @module
 */
import { componentOut, componentsIn, componentText } from "./components.ts";
import { DecodeError, root } from "./proto.ts";
import { fromBase64, objectIn, objectOut, payloadType, type OutStyle } from "./json.ts";
import { MessageType, PAYLOAD_OF_TYPE, PresenceEventType, TYPE_NAME, type Envelope, type PayloadCase, type WorldState } from "./types.ts";

/** Bytes before the id's end: the length byte; after it: 8 timestamp bytes and the type byte. */
const HEAD = 10;
const OPEN_BRACE = 0x7b;
const enc = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });
const WorldStateProto = root.lookupType("graphwiz.core.WorldState");

/** The presence fields GraphWiz-XR's client sends flat in a PRESENCE_UPDATE payload. */
const PRESENCE_DATA_KEYS = ["displayName", "display_name", "avatarUrl", "avatar_url", "position", "rotation", "avatarConfig", "avatar_config"];
const PRESENCE_OF_TYPE: Record<number, number> = {
  [MessageType.PRESENCE_JOIN]: PresenceEventType.JOIN,
  [MessageType.PRESENCE_LEAVE]: PresenceEventType.LEAVE,
  [MessageType.PRESENCE_UPDATE]: PresenceEventType.UPDATE,
};

/**
 * Whether a binary frame has the xr layout: a message id of `n` valid UTF-8 bytes, the 8-byte
 * timestamp and a type byte that names a MessageType fit in the frame, and the payload is
 * empty or starts with `{`. Anything else is read as protobuf. Cheap: no allocation unless
 * the first checks pass.
 */
export function isXrFrame(b: Uint8Array): boolean {
  const n = b[0];
  if (n === undefined || b.length < n + HEAD) return false;
  if (TYPE_NAME[b[n + 9]] === undefined || b[n + 9] === 0) return false;
  if (b.length > n + HEAD && b[n + HEAD] !== OPEN_BRACE) return false;
  try {
    utf8.decode(b.subarray(1, 1 + n));
    return true;
  } catch {
    return false;
  }
}

/** Decodes an xr frame (check {@link isXrFrame} first). Never throws. */
export function parseXr(b: Uint8Array): { msg: Envelope } | { error: DecodeError; ref?: string } {
  const n = b[0];
  const id = utf8.decode(b.subarray(1, 1 + n));
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ts = Number(view.getBigUint64(1 + n));
  const type = b[n + 9];
  try {
    let payload: unknown = {};
    if (b.length > n + HEAD) {
      try {
        payload = JSON.parse(utf8.decode(b.subarray(n + HEAD)));
      } catch {
        throw new DecodeError("The xr frame's payload is not UTF-8 JSON");
      }
    }
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) throw new DecodeError("The xr frame's payload must be a JSON object");
    return { msg: envelopeOf(type, id, ts, payload as Record<string, unknown>) };
  } catch (e) {
    return { error: e instanceof DecodeError ? e : new DecodeError(String(e)), ref: id || undefined };
  }
}

function envelopeOf(type: number, id: string, ts: number, src: Record<string, unknown>): Envelope {
  const kase = PAYLOAD_OF_TYPE[type];
  if (!kase) throw new DecodeError(`Message type ${TYPE_NAME[type] ?? type} is not one a client may send`);
  src = { ...src };
  let components: Record<string, string> | undefined;
  let audio: Uint8Array | undefined;
  if (kase === "presence_event" && (typeof src.data !== "object" || src.data === null)) {
    // GraphWiz-XR's avatar update: {clientId, displayName, avatarConfig, …} with no `data`.
    const data: Record<string, unknown> = {};
    for (const k of PRESENCE_DATA_KEYS) if (k in src) data[k] = src[k];
    src.data = data;
  }
  if ((kase === "entity_spawn" || kase === "entity_update") && src.components !== undefined) {
    components = componentsIn(src.components, `${kase}.components`);
    delete src.components;
  }
  if (kase === "voice_data") {
    const raw = src.audioData ?? src.audio_data;
    delete src.audioData;
    delete src.audio_data;
    if (raw !== undefined && raw !== null) audio = bytesIn(raw, "voice_data.audio_data");
  }
  const payload = objectIn(payloadType(kase), src, kase);
  if (components) payload.components = kase === "entity_update" ? mapValues(components, (s) => enc.encode(s)) : components;
  if (audio) payload.audio_data = audio;
  if (kase === "presence_event") {
    const implied = PRESENCE_OF_TYPE[type];
    if (payload.event_type === undefined) payload.event_type = implied;
    else if (payload.event_type !== implied) throw new DecodeError(`${TYPE_NAME[type]} needs eventType ${implied}`);
  }
  return { type, message_id: id, timestamp: Number.isSafeInteger(ts) ? ts : 0, payload: kase, [kase]: payload } as Envelope;
}

/**
 * Voice bytes as an xr client may send them: base64, an array of byte values, or what
 * `JSON.stringify` makes of a typed array (`{"0":12,"1":34}`; of an ArrayBuffer: `{}`).
 */
function bytesIn(v: unknown, path: string): Uint8Array {
  const bad = () => new DecodeError(`Field ${path} must be base64 or an array of bytes`);
  if (typeof v === "string") {
    try {
      return fromBase64(v);
    } catch {
      throw bad();
    }
  }
  const values = Array.isArray(v) ? v : typeof v === "object" && v !== null ? Object.values(v) : undefined;
  if (!values || !values.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)) throw bad();
  return Uint8Array.from(values as number[]);
}

function mapValues<A, B>(o: Record<string, A>, f: (a: A) => B): Record<string, B> {
  const out: Record<string, B> = {};
  for (const k in o) out[k] = f(o[k]);
  return out;
}

/** Message fields an xr recipient always gets (its client reads them without checking). */
const ALWAYS: Partial<Record<PayloadCase, string[]>> = {
  position_update: ["position", "rotation"],
  presence_event: ["data"],
  emoji_reaction: ["position"],
  object_grab: ["position"],
  object_release: ["position", "velocity"],
};

const XR_STYLE: OutStyle = { camel: true, enumNumbers: true };
const STYLE_OF = new Map<PayloadCase, OutStyle>(Object.entries(ALWAYS).map(([k, always]) => [k as PayloadCase, { ...XR_STYLE, always }]));
const COMPONENTS = new Set(["components"]);

/** A message of `type` as xr JSON: camelCase, enums as numbers, bytes as base64. */
export function xrObject(type: Parameters<typeof objectOut>[0], obj: Record<string, unknown>): Record<string, unknown> {
  return objectOut(type, obj, undefined, XR_STYLE);
}

/** The camelCase payload object of an envelope, as an xr recipient gets it. */
export function xrPayload(msg: Envelope): Record<string, unknown> {
  const kase = msg.payload;
  if (!kase) return {};
  const src = (msg[kase] ?? {}) as Record<string, unknown>;
  const entity = kase === "entity_spawn" || kase === "entity_update";
  const body = objectOut(payloadType(kase), src, entity ? COMPONENTS : undefined, STYLE_OF.get(kase) ?? XR_STYLE);
  switch (kase) {
    case "position_update":
      // GraphWiz-XR interpolates by the update's own timestamp: the server's.
      body.timestamp = msg.timestamp ?? 0;
      break;
    case "presence_event": {
      // GraphWiz-XR's network system reads the host from the payload's top level, snake_case.
      const host = msg.presence_event?.data?.host_client_id;
      if (host) body.host_client_id = host;
      break;
    }
    case "entity_spawn":
      body.components = mapValues((src.components ?? {}) as Record<string, string>, componentOut);
      break;
    case "entity_update":
      body.components = mapValues((src.components ?? {}) as Record<string, Uint8Array>, (b) => componentOut(componentText(b)));
      break;
  }
  return body;
}

/** Encodes a UTF-8 string cut to at most `max` bytes on a character boundary. */
function utf8Upto(s: string, max: number): Uint8Array {
  const b = enc.encode(s);
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // never split a character
  return b.subarray(0, end);
}

/**
 * The frame an xr recipient gets. A PONG is the one exception to the binary layout: the text
 * `{"messageId","timestamp","type":255,"payload":{…}}` GraphWiz-XR's client takes, silently,
 * as the answer to its ping.
 */
export function encodeXr(msg: Envelope): string | Uint8Array {
  const body = xrPayload(msg);
  const ts = Math.max(0, Math.floor(msg.timestamp ?? 0));
  if (msg.type === MessageType.PONG) {
    return JSON.stringify({ messageId: msg.message_id ?? "", timestamp: ts, type: MessageType.PING, payload: body });
  }
  const id = utf8Upto(msg.message_id ?? "", 255);
  const payload = enc.encode(JSON.stringify(body));
  const out = new Uint8Array(HEAD + id.length + payload.length);
  out[0] = id.length;
  out.set(id, 1);
  new DataView(out.buffer).setBigUint64(1 + id.length, BigInt(ts));
  out[id.length + 9] = msg.type ?? 0;
  out.set(payload, id.length + HEAD);
  return out;
}

/**
 * A world state as GraphWiz-XR's client reads it in the SERVER_HELLO text: camelCase
 * (`templateId`, `clientId`, `lastUpdate`, …), components as the JSON values they were sent as.
 */
export function xrWorldState(state: WorldState): Record<string, unknown> {
  const out = xrObject(WorldStateProto, state as Record<string, unknown>);
  for (const e of out.entities as Record<string, unknown>[]) {
    if (e.components) e.components = mapValues(e.components as Record<string, string>, componentOut);
  }
  return out;
}
