/**
 * The authoritative state of one room: each player's presence and latest pose, and every
 * spawned entity — what a late joiner is told. Its size is bounded (entities per room, bytes
 * per entity, component keys, bytes per room): {@link World.check} says whether a change
 * fits before anything is applied, so nothing is ever partially applied.
 * @module
 */
import type { AvatarConfig, EntitySnapshot, ObjectGrab, PlayerSnapshot, Quaternion, Vector3, WorldState } from "../protocol/types.ts";
import { entitySize, playerSize } from "./world-size.ts";

/** A player in the room (one per client id). */
export interface Player {
  client_id: string;
  user_id?: string;
  display_name?: string;
  avatar_url?: string;
  position?: Vector3;
  rotation?: Quaternion;
  avatar_config?: AvatarConfig;
  /**
   * The holder token of the client id as a join or session start here set it (its session id,
   * or its connection id); "" once the room log has joined the client (see join.ts, `unjoin`).
   */
  token: string;
  /** When it joined (ms; for the host: the longest present). */
  joined_at?: number;
  /** Objects this player holds (OBJECT_GRAB not yet released; core/holds.ts). */
  holding?: ObjectGrab[];
  // Its snapshot as the hello encodes it, per format, while it is unchanged (hello-state.ts;
  // dropped on every change). Fields, not an object of them: kept per idle connection.
  helloJson?: string;
  helloPb?: string;
  helloXr?: string;
  /** Its counted bytes in its world (World.bytes). */
  counted?: number;
}

/** A shared object. */
export interface Entity {
  id: string;
  template_id: string;
  owner_id: string;
  components: Record<string, string>;
  position?: Vector3;
  rotation?: Quaternion;
  /** Its counted bytes in its world (World.bytes). */
  counted?: number;
}

/** The limits of one room's world (from the config). */
export interface WorldLimits {
  /** MAX_ENTITIES_PER_ROOM */
  entities: number;
  /** MAX_ENTITY_BYTES: an entity's id, template and components. */
  entityBytes: number;
  /** MAX_ENTITY_COMPONENTS: component keys per entity. */
  components: number;
  /** MAX_ROOM_STATE_BYTES: every entity and player together. */
  roomBytes: number;
}

/** Players and entities of one room, with their counted size. */
export class World {
  readonly players = new Map<string, Player>();
  readonly entities = new Map<string, Entity>();
  /** Bumped on every change (the hello's snapshot cache follows it). */
  version = 0;
  lastUpdate = 0;
  /** The counted bytes of every player and entity. */
  bytes = 0;
  /** Hellos built since the last {@link idleHellos} pass, and whether players hold cached pieces. */
  #hellos = 0;
  #cached = false;

  constructor(readonly limits: WorldLimits) {}

  #touch(now: number): void {
    this.version++;
    this.lastUpdate = now;
  }

  // The counted size is kept on the entry itself, not in a Map beside it: one Map entry per
  // player is memory per idle connection.
  #resize(item: Entity | Player, size: number): void {
    this.bytes += size - (item.counted ?? 0);
    item.counted = size;
  }

  #drop(item: Entity | Player | undefined): void {
    if (!item?.counted) return;
    this.bytes -= item.counted;
    item.counted = 0;
  }

  /**
   * Why an entity with these contents cannot be stored (`replacing` the current one, if any),
   * or undefined when it fits every limit.
   */
  check(next: { id: string; template_id: string; components: Record<string, string> }, replacing?: Entity): string | undefined {
    const l = this.limits;
    if (!replacing && this.entities.size >= l.entities) return `This room already has ${this.entities.size} entities (MAX_ENTITIES_PER_ROOM)`;
    const keys = Object.keys(next.components).length;
    if (keys > l.components) return `Entity ${next.id} would have ${keys} components; at most ${l.components} (MAX_ENTITY_COMPONENTS)`;
    const size = entitySize(next);
    if (size > l.entityBytes) return `Entity ${next.id} would take ${size} bytes; at most ${l.entityBytes} (MAX_ENTITY_BYTES)`;
    const after = this.bytes + size - (replacing?.counted ?? 0);
    if (after > l.roomBytes) return `This room's state would take ${after} bytes; at most ${l.roomBytes} (MAX_ROOM_STATE_BYTES)`;
    return undefined;
  }

  /** Why a player's new presence fields do not fit the room, or undefined. */
  checkPlayer(p: Player, fields: Partial<Player>): string | undefined {
    const after = this.bytes - (p.counted ?? 0) + playerSize({ ...p, ...defined(fields) });
    return after > this.limits.roomBytes ? `This room's state would take ${after} bytes; at most ${this.limits.roomBytes} (MAX_ROOM_STATE_BYTES)` : undefined;
  }

  /** Adds or replaces the player entry of `player.client_id`. */
  join(player: Player, now: number): void {
    this.#drop(this.players.get(player.client_id));
    this.players.set(player.client_id, player);
    this.#resize(player, playerSize(player));
    this.#touch(now);
  }

  /** Removes a player's entry alone, its entities staying (a join the room log refused). */
  unjoin(clientId: string, now: number): void {
    this.#drop(this.players.get(clientId));
    this.players.delete(clientId);
    this.#touch(now);
  }

  /** Removes a player and every entity it owns (a departure); returns the removed entities' ids. */
  leave(clientId: string, now: number): string[] {
    this.unjoin(clientId, now);
    const gone = this.ownedBy(clientId);
    for (const id of gone) this.despawn(id, now);
    return gone;
  }

  /** Changes fields of a player (pose, name, avatar); empty values are left alone. */
  updatePlayer(clientId: string, fields: Partial<Player>, now: number): Player | undefined {
    const p = this.players.get(clientId);
    if (!p) return undefined;
    Object.assign(p, defined(fields));
    forgetEncoded(p);
    if (fields.display_name !== undefined || fields.avatar_url !== undefined || fields.avatar_config !== undefined) this.#resize(p, playerSize(p));
    this.#touch(now);
    return p;
  }

  /**
   * A player's new pose: what `updatePlayer(id, { position, rotation })` does, without the two
   * field objects per update (the position handler's hot path).
   */
  movePlayer(clientId: string, position: Vector3 | undefined, rotation: Quaternion | undefined, now: number): Player | undefined {
    const p = this.players.get(clientId);
    if (!p) return undefined;
    // Set in this order, as Object.assign would (the order of a new player's keys is that of its snapshots).
    if (position !== undefined && (position as unknown) !== "") p.position = position;
    if (rotation !== undefined && (rotation as unknown) !== "") p.rotation = rotation;
    forgetEncoded(p);
    this.#touch(now);
    return p;
  }

  /** Sets fields of a player back to earlier values (`undefined` included: a field it did not have). */
  restorePlayer(clientId: string, fields: Partial<Player>, now: number): void {
    const p = this.players.get(clientId);
    if (!p) return;
    Object.assign(p, fields);
    forgetEncoded(p);
    this.#resize(p, playerSize(p));
    this.#touch(now);
  }

  /** Adds an entity (or replaces one with the same id). */
  spawn(e: Entity, now: number): void {
    this.#drop(this.entities.get(e.id));
    this.entities.set(e.id, e);
    this.#resize(e, entitySize(e));
    this.#touch(now);
  }

  /** Changes an entity: merges components, moves it. */
  updateEntity(id: string, change: { components?: Record<string, string>; position?: Vector3; rotation?: Quaternion }, now: number): Entity | undefined {
    const e = this.entities.get(id);
    if (!e) return undefined;
    if (change.components) {
      Object.assign(e.components, change.components);
      this.#resize(e, entitySize(e));
    }
    if (change.position) e.position = change.position;
    if (change.rotation) e.rotation = change.rotation;
    this.#touch(now);
    return e;
  }

  /**
   * Takes back an update of `id`'s components: each key of `applied` that still holds the
   * value the update gave it gets `before`'s value back (or is removed when it had none).
   */
  unupdate(id: string, applied: Record<string, string>, before: Record<string, string | undefined>, now: number): void {
    const e = this.entities.get(id);
    if (!e) return;
    for (const k in applied) {
      if (e.components[k] !== applied[k]) continue; // changed since: theirs stays
      if (before[k] === undefined) delete e.components[k];
      else e.components[k] = before[k]!;
    }
    this.#resize(e, entitySize(e));
    this.#touch(now);
  }

  despawn(id: string, now: number): boolean {
    const e = this.entities.get(id);
    if (!e) return false;
    this.#drop(e);
    this.entities.delete(id);
    this.#touch(now);
    return true;
  }

  /** Ids of the entities `clientId` owns. */
  ownedBy(clientId: string): string[] {
    const ids: string[] = [];
    for (const e of this.entities.values()) if (e.owner_id === clientId) ids.push(e.id);
    return ids;
  }

  /** A hello was built from the players' cached pieces (hello-state.ts). */
  helloBuilt(): void {
    this.#hellos++;
    this.#cached = true;
  }

  /**
   * The periodic pass: when no hello was built since the last one, the players' cached hello
   * pieces go (they only serve the next joiner, and an idle room would keep them per
   * connection); the next hello encodes each player once again.
   */
  idleHellos(): void {
    if (this.#hellos === 0) this.forgetHellos();
    this.#hellos = 0;
  }

  /** Drops every player's cached hello pieces now (the next hello encodes each player again). */
  forgetHellos(): void {
    if (!this.#cached) return;
    for (const p of this.players.values()) forgetEncoded(p);
    this.#cached = false;
  }

  /** The room as a late joiner sees it. */
  snapshot(): WorldState {
    const players: PlayerSnapshot[] = [];
    for (const p of this.players.values()) players.push(playerSnapshot(p));
    const entities: EntitySnapshot[] = [];
    for (const e of this.entities.values()) entities.push(entitySnapshot(e));
    return { players, entities, last_update: this.lastUpdate };
  }
}

/** Drops a changed player's cached hello encodings. */
function forgetEncoded(p: Player): void {
  if (p.helloJson !== undefined) p.helloJson = undefined;
  if (p.helloPb !== undefined) p.helloPb = undefined;
  if (p.helloXr !== undefined) p.helloXr = undefined;
}

/** A player as snapshots show it (no token). */
export function playerSnapshot(p: Player): PlayerSnapshot {
  return {
    client_id: p.client_id, user_id: p.user_id, display_name: p.display_name, avatar_url: p.avatar_url, position: p.position,
    rotation: p.rotation, avatar_config: p.avatar_config, joined_at: p.joined_at, holding: p.holding,
  };
}

/** An entity as snapshots show it. */
export function entitySnapshot(e: Entity): EntitySnapshot {
  return { id: e.id, template_id: e.template_id, owner_id: e.owner_id, components: e.components, position: e.position, rotation: e.rotation };
}

/** `fields` without its undefined and empty-string values. */
function defined<T extends object>(fields: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k in fields) {
    const v = fields[k];
    if (v !== undefined && (v as unknown) !== "") out[k] = v;
  }
  return out;
}
