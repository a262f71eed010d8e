import { MessageType, type Envelope } from "../../src/protocol/types.ts";

/** One example of every message kind a client sends, in the in-memory form. */
export const SAMPLES: Envelope[] = [
  { type: MessageType.CLIENT_HELLO, payload: "client_hello", client_hello: { client_id: "c", display_name: "Ann", requested_room: "r", reliable: true } },
  { type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { entity_id: "e", position: { x: 1.5, y: -2, z: 3 }, rotation: { x: 0, y: 0, z: 0, w: 1 }, sequence_number: 7 } },
  { type: MessageType.VOICE_DATA, payload: "voice_data", voice_data: { from_client_id: "c", audio_data: new Uint8Array([1, 2, 255]), sequence_number: 3, codec: 1 } },
  { type: MessageType.ENTITY_SPAWN, payload: "entity_spawn", entity_spawn: { entity_id: "box", template_id: "cube", owner_id: "c", components: { color: "red" } } },
  { type: MessageType.ENTITY_UPDATE, payload: "entity_update", entity_update: { entity_id: "box", components: { color: new TextEncoder().encode("blue") } } },
  { type: MessageType.ENTITY_DESPAWN, payload: "entity_despawn", entity_despawn: { entity_id: "box" } },
  { type: MessageType.CHAT_MESSAGE, payload: "chat_message", chat_message: { from_client_id: "c", message: "hi ✓", timestamp: 1700000000000, type: 1, to_client_id: "d" } },
  { type: MessageType.PRESENCE_UPDATE, payload: "presence_event", presence_event: { client_id: "c", event_type: 2, data: { display_name: "Ann", avatar_config: { body_type: "robot", height: 1.75 } } } },
  { type: MessageType.EMOJI_REACTION, payload: "emoji_reaction", emoji_reaction: { from_client_id: "c", emoji: "🎉", position: { x: 1, y: 2, z: 3 }, timestamp: 1700000000000, reaction_id: "r1" } },
  { type: MessageType.OBJECT_GRAB, payload: "object_grab", object_grab: { entity_id: "cube", client_id: "c", position: { x: 0, y: 1, z: 0 }, timestamp: 1700000000000 } },
  { type: MessageType.OBJECT_RELEASE, payload: "object_release", object_release: { entity_id: "cube", client_id: "c", position: { x: 0, y: 1, z: 0 }, velocity: { x: 0, y: -1, z: 0.5 }, timestamp: 1700000000000 } },
  { type: MessageType.PING, payload: "ping", ping: { client_time: 42 } },
];
