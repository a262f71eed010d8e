/** {@link GraphwizClient}: a connection to one room, with its state and a method per message. @module */
import { ChatType, MessageType, type EntitySpawn, type PresenceData, type Quaternion, type Vector3 } from "../protocol/types.ts";
import { Connection } from "./connection.ts";
import type { Entity, Hold, Player } from "./room.ts";

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
  /** Who holds which object, by object id. */
  get holds(): ReadonlyMap<string, Hold> {
    return this.room.holds.map;
  }
  /** The room's host (its longest-present member), as the server last named it; undefined before the hello. */
  get host(): string | undefined {
    return this.room.host;
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
  /**
   * Grabs an object (a spawned entity or any scene object id): you hold it until you release it
   * or leave. Applied locally at once unless another client holds it; the server answers
   * CONFLICT when someone else holds it (the local grab is then undone).
   */
  grab(entityId: string, position?: Vector3): string {
    return this.send(MessageType.OBJECT_GRAB, "object_grab", { entity_id: entityId, position });
  }
  /** Releases an object you hold (optionally where, and thrown with `velocity`). */
  release(entityId: string, position?: Vector3, velocity?: Vector3): string {
    return this.send(MessageType.OBJECT_RELEASE, "object_release", { entity_id: entityId, position, velocity });
  }
  /** Sends an emoji reaction (a momentary effect: never retried or replayed). */
  react(emoji: string, position?: Vector3): string {
    return this.send(MessageType.EMOJI_REACTION, "emoji_reaction", { emoji, position });
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
  /**
   * Follows entities (avatars: client ids): in a big room their poses come at every tick
   * whatever their distance. Kept across reconnects.
   */
  follow(...entityIds: string[]): string | undefined {
    if (!this.#follows) {
      this.#follows = new Set();
      this.on("hello", () => {
        if (this.#follows!.size) this.send(MessageType.FOLLOW, "follow", { entity_ids: [...this.#follows!] });
      });
    }
    for (const id of entityIds) this.#follows.add(id);
    return this.state === "open" ? this.send(MessageType.FOLLOW, "follow", { entity_ids: entityIds }) : undefined;
  }
  /** Stops following entities. */
  unfollow(...entityIds: string[]): string | undefined {
    for (const id of entityIds) this.#follows?.delete(id);
    return this.state === "open" ? this.send(MessageType.UNFOLLOW, "follow", { entity_ids: entityIds }) : undefined;
  }
  #follows?: Set<string>;
  /** Asks the server for a `pong` event (its `rtt_ms` is the round trip). */
  ping(): string {
    return this.send(MessageType.PING, "ping", { client_time: Date.now() });
  }
}
