/**
 * graphwiz-ws client SDK for browsers, Node (≥ 22, or 20 with `ws`), Deno and Bun; connects to
 * a room, keeps its players and entities, names every event, speaks JSON (built in) or protobuf
 * (loaded on demand), queues sends until connected, and reconnects with backoff and jitter,
 * resuming reliable sessions. Every method and event: docs/client.md.
 * @module
 */
export { GraphwizClient, type SpawnOptions } from "./client.ts";
export type { Connection } from "./connection.ts";
export type { AcceptedEvent, ChatEvent, ClientEvents, ClientOptions, CloseInfo, ConnectionState, ModerationNotice, PongEvent, ReactionEvent, ServerError, VoiceEvent } from "./events.ts";
export type { ChangeSource, Entity, EntityChange, Hold, HoldChange, HostChange, Player, PoseChange, PresenceChange } from "./room.ts";
export type { HelloInfo } from "./json.ts";
export type { Format } from "./codec.ts";
export type { WebSocketConstructor, WebSocketLike } from "./websocket.ts";
export type { BackoffOptions } from "./backoff.ts";
export { backoffDelay } from "./backoff.ts";
export { ClientErrorCode, GraphwizError } from "./errors.ts";
export { CloseCode, ErrorCode, reconnectAdvice, type ReconnectAdvice } from "../errors.ts";
export * from "../protocol/types.ts";
