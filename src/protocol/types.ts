/**
 * TypeScript shapes of the graphwiz.core messages (proto/graphwiz.proto) as the server and the
 * SDK hold them: snake_case fields, enums as numbers, int64 as numbers, bytes as Uint8Array.
 * @module
 */

/**
 * A wire format: what a connection receives typed messages as. `xr` is GraphWiz-XR's own binary
 * frame layout (see xr.ts).
 */
export type Format = "json" | "protobuf" | "xr";
/** Every format, in counting order (metrics columns). */
export const FORMATS: readonly Format[] = ["json", "protobuf", "xr"];

/** `MessageType` values. */
export const MessageType = {
  UNKNOWN: 0,
  CLIENT_HELLO: 1,
  SERVER_HELLO: 2,
  POSITION_UPDATE: 10,
  VOICE_DATA: 11,
  ENTITY_SPAWN: 20,
  ENTITY_UPDATE: 21,
  ENTITY_DESPAWN: 22,
  CHAT_MESSAGE: 30,
  EMOJI_REACTION: 31,
  OBJECT_GRAB: 32,
  OBJECT_RELEASE: 33,
  PRESENCE_JOIN: 40,
  PRESENCE_LEAVE: 41,
  PRESENCE_UPDATE: 42,
  ERROR: 50,
  ACK: 51,
  REFRESH: 52,
  ACCEPTED: 53,
  MODERATION: 54,
  POSE_BATCH: 60,
  FOLLOW: 61,
  UNFOLLOW: 62,
  PONG: 254,
  PING: 255,
} as const;
/** A `MessageType` name. */
export type MessageTypeName = keyof typeof MessageType;

/** `ChatMessageType` values. */
export const ChatType = { NORMAL: 0, WHISPER: 1, SHOUT: 2 } as const;
/** `PresenceEventType` values. */
export const PresenceEventType = { JOIN: 0, LEAVE: 1, UPDATE: 2 } as const;
/** `ModerationAction` values. */
export const ModerationAction = { KICK: 0, MUTE: 1, UNMUTE: 2, LOCK: 3, UNLOCK: 4 } as const;

export interface Vector3 { x?: number; y?: number; z?: number }
export interface Quaternion { x?: number; y?: number; z?: number; w?: number }
export interface AvatarConfig {
  body_type?: string;
  primary_color?: string;
  secondary_color?: string;
  height?: number;
  custom_model_url?: string;
}
export interface PositionUpdate { entity_id?: string; position?: Vector3; rotation?: Quaternion; sequence_number?: number }
export interface VoiceData { from_client_id?: string; audio_data?: Uint8Array; sequence_number?: number; codec?: number }
export interface EntitySpawn { entity_id?: string; template_id?: string; owner_id?: string; components?: Record<string, string> }
export interface EntityUpdate { entity_id?: string; components?: Record<string, Uint8Array> }
export interface EntityDespawn { entity_id?: string }
export interface ChatMessage { from_client_id?: string; message?: string; timestamp?: number; type?: number; to_client_id?: string }
export interface PresenceData {
  display_name?: string;
  avatar_url?: string;
  position?: Vector3;
  rotation?: Quaternion;
  avatar_config?: AvatarConfig;
  host_client_id?: string;
  joined_at?: number;
}
export interface PresenceEvent { client_id?: string; event_type?: number; data?: PresenceData }
export interface ClientHello {
  client_id?: string;
  display_name?: string;
  auth_token?: string;
  requested_room?: string;
  reliable?: boolean;
  avatar_url?: string;
  avatar_config?: AvatarConfig;
  batch?: boolean;
}
export interface EntitySnapshot {
  id?: string;
  template_id?: string;
  position?: Vector3;
  rotation?: Quaternion;
  components?: Record<string, string>;
  owner_id?: string;
}
export interface PlayerSnapshot {
  client_id?: string;
  display_name?: string;
  avatar_url?: string;
  position?: Vector3;
  rotation?: Quaternion;
  avatar_config?: AvatarConfig;
  user_id?: string;
  joined_at?: number;
  holding?: ObjectGrab[];
}
export interface WorldState { entities?: EntitySnapshot[]; players?: PlayerSnapshot[]; last_update?: number }
export interface ServerHello {
  server_version?: string;
  assigned_client_id?: string;
  room_id?: string;
  initial_state?: WorldState;
  connection_id?: string;
  session_id?: string;
  resumed?: boolean;
  last_seq?: number;
  epoch?: number;
  user_id?: string;
  host_client_id?: string;
}
export interface ErrorPayload { code?: string; message?: string; ref_message_id?: string; retry_after_ms?: number; close_code?: number }
export interface Ack { seq?: number; epoch?: number }
export interface Accepted { ref_message_id?: string; seq?: number; epoch?: number }
export interface Refresh { token?: string }
export interface Ping { client_time?: number }
export interface Pong { client_time?: number; server_time?: number }
export interface EmojiReaction { from_client_id?: string; emoji?: string; position?: Vector3; timestamp?: number; reaction_id?: string }
export interface ObjectGrab { entity_id?: string; client_id?: string; position?: Vector3; timestamp?: number }
export interface ObjectRelease { entity_id?: string; client_id?: string; position?: Vector3; velocity?: Vector3; timestamp?: number }
/** One entity's pose in a batch: millimetres, rotation in 1/4096 units (see proto Pose). */
export interface Pose { slot?: number; entity_id?: string; x?: number; y?: number; z?: number; qx?: number; qy?: number; qz?: number; qw?: number; sequence_number?: number }
export interface PoseBatch { poses?: Pose[] }
export interface Follow { entity_ids?: string[] }
export interface ModerationEvent { action?: number; target_client_id?: string; by_client_id?: string; reason?: string }

/** Payload field name → payload shape (the `oneof payload`). */
export interface Payloads {
  client_hello: ClientHello;
  server_hello: ServerHello;
  position_update: PositionUpdate;
  voice_data: VoiceData;
  entity_spawn: EntitySpawn;
  entity_update: EntityUpdate;
  entity_despawn: EntityDespawn;
  chat_message: ChatMessage;
  presence_event: PresenceEvent;
  error: ErrorPayload;
  ack: Ack;
  refresh: Refresh;
  ping: Ping;
  pong: Pong;
  accepted: Accepted;
  emoji_reaction: EmojiReaction;
  object_grab: ObjectGrab;
  object_release: ObjectRelease;
  moderation: ModerationEvent;
  pose_batch: PoseBatch;
  follow: Follow;
}
/** The name of a payload field. */
export type PayloadCase = keyof Payloads;

/** The envelope. Exactly one payload field is set, named by `payload`. */
export type Envelope = {
  message_id?: string;
  timestamp?: number;
  type?: number;
  seq?: number;
  epoch?: number;
  /** Which payload field is set (protobufjs' virtual oneof property). */
  payload?: PayloadCase;
  /** Not a protobuf field: the client's bytes when it arrived in a binary frame (see stamp.ts). */
  raw?: Uint8Array;
} & { [K in PayloadCase]?: Payloads[K] };

/** The payload case each message type must carry. */
export const PAYLOAD_OF_TYPE: Partial<Record<number, PayloadCase>> = {
  [MessageType.CLIENT_HELLO]: "client_hello",
  [MessageType.SERVER_HELLO]: "server_hello",
  [MessageType.POSITION_UPDATE]: "position_update",
  [MessageType.VOICE_DATA]: "voice_data",
  [MessageType.ENTITY_SPAWN]: "entity_spawn",
  [MessageType.ENTITY_UPDATE]: "entity_update",
  [MessageType.ENTITY_DESPAWN]: "entity_despawn",
  [MessageType.CHAT_MESSAGE]: "chat_message",
  [MessageType.EMOJI_REACTION]: "emoji_reaction",
  [MessageType.OBJECT_GRAB]: "object_grab",
  [MessageType.OBJECT_RELEASE]: "object_release",
  [MessageType.MODERATION]: "moderation",
  [MessageType.PRESENCE_JOIN]: "presence_event",
  [MessageType.PRESENCE_LEAVE]: "presence_event",
  [MessageType.PRESENCE_UPDATE]: "presence_event",
  [MessageType.ERROR]: "error",
  [MessageType.ACK]: "ack",
  [MessageType.REFRESH]: "refresh",
  [MessageType.PING]: "ping",
  [MessageType.PONG]: "pong",
  [MessageType.ACCEPTED]: "accepted",
  [MessageType.POSE_BATCH]: "pose_batch",
  [MessageType.FOLLOW]: "follow",
  [MessageType.UNFOLLOW]: "follow",
};

/** `MessageType` number → name. */
export const TYPE_NAME: Record<number, MessageTypeName> = Object.fromEntries(
  Object.entries(MessageType).map(([k, v]) => [v, k]),
) as Record<number, MessageTypeName>;
