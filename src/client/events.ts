/** The options and the events of {@link GraphwizClient}: the SDK's public shapes. @module */
import type { Envelope, Vector3 } from "../protocol/types.ts";
import type { BackoffOptions } from "./backoff.ts";
import type { Format } from "./codec.ts";
import type { HelloInfo } from "./json.ts";
import type { EntityChange, HoldChange, HostChange, PoseChange, PresenceChange } from "./room.ts";
import type { WebSocketConstructor } from "./websocket.ts";

/** Options of {@link GraphwizClient}. */
export interface ClientOptions {
  /** Server base URL, e.g. `ws://localhost:8083` (`wss://…` behind TLS). */
  url: string;
  /** The room to join (1–128 of `A-Z a-z 0-9 . _ : -`). */
  room: string;
  /** Your client id. @default a server-generated UUID, kept across reconnects */
  clientId?: string;
  /** Your user id (development mode only; with auth the token decides). @default none */
  userId?: string;
  /** Shown to others in presence events. @default none */
  displayName?: string;
  /** A JWT, sent as `?token=` (or in the first message, see `tokenInFirstMessage`). @default none */
  token?: string;
  /** Send the token as the first message (CLIENT_HELLO.auth_token) instead of in the URL. @default false */
  tokenInFirstMessage?: boolean;
  /** The frames this client sends and receives; `"protobuf"` loads the protobuf codec on `connect()`. @default "json" */
  format?: Format;
  /** Reconnect after unexpected closes (`false`, `true`, or backoff settings). @default true */
  reconnect?: boolean | BackoffOptions;
  /**
   * Acknowledged delivery (`?ack=1`): reliable messages carry a `seq`, the SDK acknowledges them
   * (every 100 ms or 32 messages), drops duplicates, and on reconnect resumes the session so
   * nothing is lost; and the server tells the outcome of each reliable send (`outcome(id)`,
   * the `accepted` event). @default false
   */
  reliable?: boolean;
  /**
   * In a big room, take others' poses as one POSE_BATCH per server tick (`?batch=1`); each pose
   * still arrives as a `position` event. @default true
   */
  batch?: boolean;
  /** Most messages kept while not connected (sends beyond it throw `QUEUE_FULL`). @default 1024 */
  queueLimit?: number;
  /** Extra query parameters for the upgrade URL. @default {} */
  query?: Record<string, string>;
  /** A WebSocket constructor; needed on Node 20 unless the `ws` package is installed. @default globalThis.WebSocket, then `ws` */
  WebSocket?: WebSocketConstructor;
}

/** Where the connection stands. */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** A `chat` event. */
export interface ChatEvent {
  from_client_id: string;
  message: string;
  type: "NORMAL" | "WHISPER" | "SHOUT";
  /** The whisper's recipient (empty otherwise). */
  to_client_id: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  message_id: string;
}
/** A `voice` event. */
export interface VoiceEvent {
  from_client_id: string;
  audio_data: Uint8Array;
  sequence_number: number;
  codec: "OPUS" | "PCMU" | "PCMA";
}
/** An `error` event: the server refused something this client sent, or is about to close it. */
export interface ServerError {
  /** A stable code from docs/close-codes.md, e.g. `FORBIDDEN`, `CONFLICT`, `RATE_LIMITED`. */
  code: string;
  message: string;
  /** The `message_id` of the message it answers (the SDK's send methods return it). */
  ref_message_id: string;
  retry_after_ms: number;
  close_code: number;
}
/** A `reaction` event: someone else's EMOJI_REACTION (a momentary effect, never replayed). */
export interface ReactionEvent {
  from_client_id: string;
  emoji: string;
  /** Where it appears, when the sender said. */
  position?: Vector3;
  /** The sender's id for it (its message id unless it chose one). */
  reaction_id: string;
  /** Server time, ms. */
  timestamp: number;
}
/** A `moderation` event: what a moderator did in the room (POST /moderation/…). */
export interface ModerationNotice {
  action: "KICK" | "MUTE" | "UNMUTE" | "LOCK" | "UNLOCK";
  /** Who was kicked, muted or unmuted ("" for lock and unlock). */
  target_client_id: string;
  /** The moderator's client id, as the request named it ("" when it named none). */
  by_client_id: string;
  reason: string;
  /** True when the target is this client. */
  self: boolean;
}
/** An `accepted` event (reliable mode): one of your sends is in the room log and reaches every member. */
export interface AcceptedEvent {
  /** The id your send method returned. */
  ref_message_id: string;
  /** Its place in the room's sequence (of `epoch`). */
  seq: number;
  epoch: number;
}
/** A `pong` event, the answer to {@link GraphwizClient.ping}. */
export interface PongEvent {
  client_time: number;
  server_time: number;
  /** Round trip in milliseconds. */
  rtt_ms: number;
}
/** A `close` event. */
export interface CloseInfo {
  code: number;
  reason: string;
  /** True when the SDK will reconnect (and resume, if reliable) by itself. */
  willReconnect: boolean;
}

/**
 * Events of {@link GraphwizClient}. The second argument, where there is one, is the decoded
 * server message the event came from (absent for `local`, `snapshot` and `revert` changes).
 */
export interface ClientEvents {
  /** Connected (again): the room's state is in `players`/`entities`. */
  hello: (hello: HelloInfo) => void;
  /** Someone joined, left or changed name, avatar or pose via presence (you too). */
  presence: (ev: PresenceChange, msg?: Envelope) => void;
  /** An entity was spawned, updated or despawned (yours too). */
  entity: (ev: EntityChange, msg?: Envelope) => void;
  /** A player or entity moved (yours too). */
  position: (ev: PoseChange, msg?: Envelope) => void;
  /** The room's host changed (or became known). */
  host: (ev: HostChange, msg?: Envelope) => void;
  /** An object was grabbed or released (by you too). */
  hold: (ev: HoldChange, msg?: Envelope) => void;
  /** An emoji reaction from someone else. */
  reaction: (reaction: ReactionEvent, msg: Envelope) => void;
  /** A moderator kicked, muted or unmuted someone, or locked or unlocked the room. */
  moderation: (ev: ModerationNotice, msg: Envelope) => void;
  /** Reliable mode: one of your sends is in the room log (its refusal is an `error` naming it). */
  accepted: (ev: AcceptedEvent, msg: Envelope) => void;
  /** A chat message from someone else. */
  chat: (chat: ChatEvent, msg: Envelope) => void;
  /** Voice data from someone else. */
  voice: (voice: VoiceEvent, msg: Envelope) => void;
  /** The answer to `ping()`. */
  pong: (pong: PongEvent, msg: Envelope) => void;
  /** An ERROR from the server (a local change it refers to has been undone first). */
  error: (error: ServerError, msg: Envelope) => void;
  /** The connection state changed. */
  state: (state: ConnectionState) => void;
  /** The socket closed. */
  close: (info: CloseInfo) => void;
  /** Every typed message from the server, decoded (`msg.type` is a `MessageType` number). */
  message: (msg: Envelope) => void;
  /** Text or bytes the server relayed without a known type. */
  raw: (data: string | Uint8Array) => void;
}
