/**
 * The authoritative state of one room: each player's presence and latest pose, and every
 * spawned entity. A late joiner receives {@link World.snapshot} in its SERVER_HELLO.
 * @module
 */
import type { AvatarConfig, EntitySnapshot, ObjectGrab, PlayerSnapshot, Quaternion, Vector3, WorldState } from "../protocol/types.ts";

/** A player in the room (one per client id). */
export interface Player {
  client_id: string;
  user_id?: string;
  display_name?: string;
  avatar_url?: string;
  position?: Vector3;
  rotation?: Quaternion;
  avatar_config?: AvatarConfig;
  /** When the player joined (ms): the longest-present player is the host (compat, core/host.ts). */
  joined_at?: number;
  /** Objects this player holds (OBJECT_GRAB not yet released; compat, core/holds.ts). */
  holding?: ObjectGrab[];
  /** The connection that owns this entry (a client id reconnecting replaces it). */
  connectionId: string;
}

/** A shared object. */
export interface Entity {
  id: string;
  template_id: string;
  owner_id: string;
  components: Record<string, string>;
  position?: Vector3;
  rotation?: Quaternion;
}

// graphwiz-ws compat (issue 15): componentText moved to protocol/components.ts (the xr format
// needs it too); re-exported here for the core's callers.
export { componentText } from "../protocol/components.ts";

/** Told of every change made on this instance (the cluster persists them); not of replayed remote ones. */
export interface WorldListener {
  player(clientId: string, player: Player | undefined): void;
  entity(entityId: string, entity: Entity | undefined): void;
}

/**
 * Players and entities of one room. Every change goes through a method, so the cluster can
 * persist local changes ({@link WorldListener}) and replay remote ones.
 */
export class World {
  readonly players = new Map<string, Player>();
  readonly entities = new Map<string, Entity>();
  lastUpdate = 0;
  /** Set by the cluster link when this room's world is shared. */
  listener?: WorldListener;

  touch(now: number): void {
    this.lastUpdate = now;
  }

  /** Adds or replaces the player entry of `clientId`. */
  join(player: Player, now: number): void {
    this.players.set(player.client_id, player);
    this.touch(now);
    this.listener?.player(player.client_id, player);
  }

  /** Removes the player if `connectionId` still owns it; returns whether it did. */
  leave(clientId: string, connectionId: string, now: number): boolean {
    const p = this.players.get(clientId);
    if (!p || p.connectionId !== connectionId) return false;
    this.players.delete(clientId);
    this.touch(now);
    this.listener?.player(clientId, undefined);
    return true;
  }

  /** Changes fields of a player (pose, name, avatar). */
  updatePlayer(clientId: string, fields: Partial<Player>, now: number): Player | undefined {
    const p = this.players.get(clientId);
    if (!p) return undefined;
    for (const k in fields) {
      const v = fields[k as keyof Player];
      if (v !== undefined && v !== "") (p as unknown as Record<string, unknown>)[k] = v;
    }
    this.touch(now);
    this.listener?.player(clientId, p);
    return p;
  }

  /** Adds an entity (or replaces one with the same id). */
  spawn(e: Entity, now: number): void {
    this.entities.set(e.id, e);
    this.touch(now);
    this.listener?.entity(e.id, e);
  }

  /** Changes an entity: merges components, moves it. */
  updateEntity(id: string, change: { components?: Record<string, string>; position?: Vector3; rotation?: Quaternion }, now: number): void {
    const e = this.entities.get(id);
    if (!e) return;
    if (change.components) Object.assign(e.components, change.components);
    if (change.position) e.position = change.position;
    if (change.rotation) e.rotation = change.rotation;
    this.touch(now);
    this.listener?.entity(id, e);
  }

  despawn(id: string, now: number): boolean {
    if (!this.entities.delete(id)) return false;
    this.touch(now);
    this.listener?.entity(id, undefined);
    return true;
  }

  /** Ids of the entities `clientId` owns. */
  ownedBy(clientId: string): string[] {
    const ids: string[] = [];
    for (const e of this.entities.values()) if (e.owner_id === clientId) ids.push(e.id);
    return ids;
  }

  /** The room as a late joiner sees it. */
  snapshot(): WorldState {
    const players: PlayerSnapshot[] = [];
    for (const p of this.players.values()) {
      const { connectionId: _, ...snap } = p;
      players.push(snap);
    }
    const entities: EntitySnapshot[] = [];
    for (const e of this.entities.values()) {
      entities.push({ id: e.id, template_id: e.template_id, owner_id: e.owner_id, components: e.components, position: e.position, rotation: e.rotation });
    }
    return { players, entities, last_update: this.lastUpdate };
  }
}
