/** {@link GraphwizClient}: a connection to one room, with its state and a method per message. @module */
import { ChatType, MessageType, type EntitySpawn, type PresenceData, type Quaternion, type Vector3 } from "../protocol/types.ts";
import { Connection } from "./connection.ts";
import type { Entity, Player } from "./room.ts";

/** What {@link GraphwizClient.spawnEntity} takes: an EntitySpawn, optionally placed at once. */
export interface SpawnOptions extends EntitySpawn {
  entity_id: string;
  /** Sent as a POSITION_UPDATE right after the spawn. */
  position?: Vector3;
  rotation?: Quaternion;
}

const encoder = new TextEncoder();

/**
 * A connection to one room. State: {@link players}, {@link entities}; events: see
 * {@link ClientEvents} (docs/client.md has the table). Sends before `connect()` resolves are
 * queued and go out, in order, right after the SERVER_HELLO.
 */
export class GraphwizClient extends Connection {
  /** Everyone in the room, you included, by client id. */
  get players(): ReadonlyMap<string, Player> {
    return this.room.players;
  }
  /** Every entity in the room, by id. */
  get entities(): ReadonlyMap<string, Entity> {
    return this.room.entities;
  }
  /** Your own player entry (after the hello). */
  get me(): Player | undefined {
    return this.clientId === undefined ? undefined : this.room.players.get(this.clientId);
  }

  /** Sends a chat message; `to` makes it a whisper to that client. Returns its message id. */
  sendChat(message: string, opts: { type?: keyof typeof ChatType | number; to?: string } = {}): string {
    const type = typeof opts.type === "string" ? ChatType[opts.type] : opts.type ?? (opts.to ? ChatType.WHISPER : ChatType.NORMAL);
    return this.send(MessageType.CHAT_MESSAGE, "chat_message", { message, type, to_client_id: opts.to ?? "" });
  }
  /** Moves your avatar, or an entity you own (`entityId`). Latest-wins: never queued for retry. */
  sendPosition(position: Vector3, rotation?: Quaternion, entityId = "", sequence = 0): string {
    return this.send(MessageType.POSITION_UPDATE, "position_update", { entity_id: entityId, position, rotation, sequence_number: sequence });
  }
  /** Spawns an entity you will own (its `entity_id` must be new in the room). Returns the spawn's message id. */
  spawnEntity(spawn: SpawnOptions): string {
    const { position, rotation, ...rest } = spawn;
    const id = this.send(MessageType.ENTITY_SPAWN, "entity_spawn", rest);
    if (position) this.sendPosition(position, rotation, spawn.entity_id);
    return id;
  }
  /** Merges components into an entity you own (strings are sent as UTF-8). */
  updateEntity(entityId: string, components: Record<string, Uint8Array | string>): string {
    const bytes: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(components)) bytes[k] = typeof v === "string" ? encoder.encode(v) : v;
    return this.send(MessageType.ENTITY_UPDATE, "entity_update", { entity_id: entityId, components: bytes });
  }
  /** Removes an entity you own. */
  despawnEntity(entityId: string): string {
    return this.send(MessageType.ENTITY_DESPAWN, "entity_despawn", { entity_id: entityId });
  }
  /** Changes your presence (display name, avatar, pose); the others get a PRESENCE_UPDATE. */
  updatePresence(data: PresenceData): string {
    return this.send(MessageType.PRESENCE_UPDATE, "presence_event", { event_type: 2, data });
  }
  /** Sends voice data (never queued for retry; dropped for slow receivers). */
  sendVoice(audio: Uint8Array, sequence = 0, codec = 0): string {
    return this.send(MessageType.VOICE_DATA, "voice_data", { audio_data: audio, sequence_number: sequence, codec });
  }
  /** Replaces the connection's token before it expires (same user); later reconnects use it too. */
  refreshToken(token: string): string {
    this.options.token = token;
    return this.send(MessageType.REFRESH, "refresh", { token });
  }
  /** Asks the server for a `pong` event (its `rtt_ms` is the round trip). */
  ping(): string {
    return this.send(MessageType.PING, "ping", { client_time: Date.now() });
  }
}
