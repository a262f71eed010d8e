/**
 * The room as this client knows it: players and entities, kept exactly as the server's world
 * keeps them (src/core/world.ts) — from the SERVER_HELLO snapshot, the server's messages, and
 * this client's own sends (the server never echoes a message to its sender, so they are applied
 * here, and undone if the server answers them with an ERROR).
 *
 * Every change is announced once, as a typed event with its `source`. One handler per payload
 * kind (`apply`), so new world state (grabs, a room host, batched poses) is one more case here.
 * @module
 */
import { MessageType, type EntitySnapshot, type Envelope, type PlayerSnapshot, type PresenceData, type Quaternion, type Vector3 } from "../protocol/types.ts";
// The server's own rule for component text (a pure function), so both sides agree by construction.
import { componentText } from "../protocol/component-text.ts";
import type { HelloInfo } from "./json.ts";

/** A member of the room: the server's PlayerSnapshot (empty strings are left out). */
export type Player = Omit<PlayerSnapshot, "client_id"> & { client_id: string };
/** A shared object: the server's EntitySnapshot. Components are text (see docs/protocol.md). */
export type Entity = Omit<EntitySnapshot, "id" | "template_id" | "owner_id" | "components"> & {
  id: string;
  template_id: string;
  owner_id: string;
  components: Record<string, string>;
};
/**
 * Where a change came from: a server message, this client's own send (`local`), the hello's
 * snapshot after a (re)connect (`snapshot`), or the undoing of an own send the server refused (`revert`).
 */
export type ChangeSource = "server" | "local" | "snapshot" | "revert";
/** A `presence` event. */
export interface PresenceChange {
  kind: "join" | "leave" | "update";
  client_id: string;
  /** The player after the change (for `leave`: as it was). */
  player: Player;
  /** True when it is this client. */
  self: boolean;
  source: ChangeSource;
}
/** An `entity` event. */
export interface EntityChange {
  kind: "spawn" | "update" | "despawn";
  entity_id: string;
  /** The entity after the change (for `despawn`: as it was). */
  entity: Entity;
  /** For `update`: the components that changed, with their new text. */
  components?: Record<string, string>;
  source: ChangeSource;
}
/** A `position` event: a player's or entity's new pose. */
export interface PoseChange {
  entity_id: string;
  /** What moved: a player (avatar), an entity, or an id this client does not know. */
  target: "player" | "entity" | "unknown";
  position?: Vector3;
  rotation?: Quaternion;
  sequence_number: number;
  source: ChangeSource;
}

/** How the room state announces changes (the client's emitter). */
export interface RoomSink {
  presence(ev: PresenceChange, msg?: Envelope): void;
  entity(ev: EntityChange, msg?: Envelope): void;
  position(ev: PoseChange, msg?: Envelope): void;
}

const PLAYER_FIELDS = ["user_id", "display_name", "avatar_url", "avatar_config", "position", "rotation"] as const;
const UNDO_LIMIT = 256;

/** Plain copies (protobuf-decoded objects keep defaults on their prototype). */
const vec = (v: Vector3): Vector3 => ({ x: v.x ?? 0, y: v.y ?? 0, z: v.z ?? 0 });
const quat = (q: Quaternion): Quaternion => ({ x: q.x ?? 0, y: q.y ?? 0, z: q.z ?? 0, w: q.w ?? 0 });
function plain(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = (o as Record<string, unknown>)[k];
    if (typeof v !== "function" && !k.startsWith("$")) out[k] = v;
  }
  return out;
}
const set = (v: unknown): boolean => v !== undefined && v !== null && v !== "";

/** Merges presence fields into a player the way the server does: unset and empty fields keep the old value. */
function mergePlayer(p: Player, data: PresenceData | Record<string, unknown>): Player {
  const d = data as Record<string, unknown>;
  for (const k of PLAYER_FIELDS) {
    const v = d[k];
    if (!set(v)) continue;
    (p as unknown as Record<string, unknown>)[k] = k === "position" ? vec(v as Vector3) : k === "rotation" ? quat(v as Quaternion) : typeof v === "object" ? plain(v as object) : v;
  }
  return p;
}
function entityFrom(e: Record<string, unknown>): Entity {
  const out: Entity = { id: String(e.id ?? ""), template_id: String(e.template_id ?? ""), owner_id: String(e.owner_id ?? ""), components: { ...(e.components as Record<string, string>) } };
  if (set(e.position)) out.position = vec(e.position as Vector3);
  if (set(e.rotation)) out.rotation = quat(e.rotation as Quaternion);
  return out;
}
/** Deep equality of plain data, whatever the key order. */
const canon = (v: unknown): unknown =>
  v && typeof v === "object" ? Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]) : v;
const same = (a: unknown, b: unknown) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));

/** Players and entities of the room this client is in. */
export class RoomState {
  readonly players = new Map<string, Player>();
  readonly entities = new Map<string, Entity>();
  /** This client's id. */
  self?: string;
  /** Undo steps of own sends, by message id (the newest {@link UNDO_LIMIT}). */
  readonly #undo = new Map<string, () => void>();
  constructor(readonly sink: RoomSink) {}

  /**
   * A SERVER_HELLO. A resumed session keeps its state (the missed messages follow) and takes
   * only the latest poses from the snapshot; otherwise the state becomes the snapshot and the
   * differences are announced (`source: "snapshot"`), so an event-driven view never goes stale.
   */
  reset(hello: HelloInfo): void {
    this.self = hello.client_id;
    const snap = hello.initial_state ?? {};
    const players = new Map((snap.players ?? []).map((p) => [String(p.client_id), mergePlayer({ client_id: String(p.client_id) }, p)] as const));
    const entities = new Map((snap.entities ?? []).map((e) => [String(e.id), entityFrom(e)] as const));
    if (hello.resumed) return this.#refreshPoses(players, entities);
    this.#undo.clear();
    for (const [id, p] of this.players) if (!players.has(id)) this.#presence("leave", p, "snapshot");
    for (const [id, e] of this.entities) if (!entities.has(id)) this.#entity("despawn", e, "snapshot");
    for (const [id, p] of players) {
      const old = this.players.get(id);
      if (!old || !same(old, p)) this.#presence(old ? "update" : "join", p, "snapshot");
    }
    for (const [id, e] of entities) {
      const old = this.entities.get(id);
      if (!old || !same(old, e)) this.#entity(old ? "update" : "spawn", e, "snapshot");
    }
  }

  #refreshPoses(players: Map<string, Player>, entities: Map<string, Entity>): void {
    for (const [id, fresh] of [...players, ...entities]) {
      const mine = this.players.get(id) ?? this.entities.get(id);
      if (!mine || !fresh.position || same([mine.position, mine.rotation], [fresh.position, fresh.rotation])) continue;
      this.#pose({ entity_id: id, position: fresh.position, rotation: fresh.rotation }, "snapshot");
    }
  }

  /** A typed message from the server. */
  apply(msg: Envelope): void {
    switch (msg.payload) {
      case "presence_event": {
        const ev = msg.presence_event!;
        const id = ev.client_id ?? "";
        const known = this.players.get(id);
        if (msg.type === MessageType.PRESENCE_LEAVE) {
          if (known) this.#presence("leave", known, "server", msg);
        } else this.#presence(known ? "update" : "join", mergePlayer({ ...(known ?? { client_id: id }) }, ev.data ?? {}), "server", msg);
        return;
      }
      case "position_update": return this.#pose(msg.position_update!, "server", msg);
      case "entity_spawn": {
        const s = msg.entity_spawn!;
        return this.#entity("spawn", entityFrom({ ...s, id: s.entity_id }), "server", msg);
      }
      case "entity_update": {
        const u = msg.entity_update!;
        const e = this.entities.get(u.entity_id ?? "");
        if (e) this.#entity("update", e, "server", msg, texts(u.components));
        return;
      }
      case "entity_despawn": {
        const e = this.entities.get(msg.entity_despawn!.entity_id ?? "");
        if (e) this.#entity("despawn", e, "server", msg);
        return;
      }
    }
  }

  /** A message this client sent: applied here as the server will apply it, with an undo step. */
  applyLocal(msg: Envelope): void {
    const me = this.self;
    if (!me) return;
    const owned = (id = "") => {
      const e = this.entities.get(id);
      return e && e.owner_id === me ? e : undefined;
    };
    const id = msg.message_id ?? "";
    switch (msg.payload) {
      case "position_update": {
        const p = msg.position_update!;
        const target = p.entity_id || me;
        if (target === me ? this.players.has(me) : owned(target)) this.#pose({ ...p, entity_id: target }, "local");
        return;
      }
      case "client_hello":
      case "presence_event": {
        const data = msg.payload === "client_hello" ? msg.client_hello! : msg.presence_event!.data ?? {};
        const p = this.players.get(me);
        if (p) this.#presence("update", mergePlayer({ ...p }, data), "local");
        return;
      }
      case "entity_spawn": {
        const s = msg.entity_spawn!;
        if (!s.entity_id || this.entities.has(s.entity_id)) return;
        const e = entityFrom({ ...s, id: s.entity_id, owner_id: me });
        this.#entity("spawn", e, "local");
        return this.#remember(id, () => this.entities.get(e.id) === e && this.#entity("despawn", e, "revert"));
      }
      case "entity_update": {
        const u = msg.entity_update!;
        const e = owned(u.entity_id);
        if (!e) return;
        const changed = texts(u.components);
        const before: Record<string, string | undefined> = {};
        for (const k in changed) before[k] = e.components[k];
        this.#entity("update", e, "local", undefined, changed);
        return this.#remember(id, () => {
          if (this.entities.get(e.id) !== e) return;
          const back: Record<string, string> = {};
          for (const k in before) if (before[k] === undefined) delete e.components[k]; else back[k] = before[k]!;
          this.#entity("update", e, "revert", undefined, back);
        });
      }
      case "entity_despawn": {
        const e = owned(msg.entity_despawn!.entity_id);
        if (!e) return;
        this.#entity("despawn", e, "local");
        return this.#remember(id, () => !this.entities.has(e.id) && this.#entity("spawn", e, "revert"));
      }
    }
  }

  /** The server refused message `refMessageId`: undo its local effect (if it had one). */
  revert(refMessageId: string): void {
    const undo = this.#undo.get(refMessageId);
    this.#undo.delete(refMessageId);
    undo?.();
  }

  #remember(messageId: string, undo: () => void): void {
    this.#undo.set(messageId, undo);
    if (this.#undo.size > UNDO_LIMIT) this.#undo.delete(this.#undo.keys().next().value!);
  }

  #presence(kind: PresenceChange["kind"], player: Player, source: ChangeSource, msg?: Envelope): void {
    if (kind === "leave") this.players.delete(player.client_id);
    else this.players.set(player.client_id, player);
    this.sink.presence({ kind, client_id: player.client_id, player, self: player.client_id === this.self, source }, msg);
  }

  #entity(kind: EntityChange["kind"], e: Entity, source: ChangeSource, msg?: Envelope, components?: Record<string, string>): void {
    if (kind === "despawn") this.entities.delete(e.id);
    else this.entities.set(e.id, e);
    if (components) Object.assign(e.components, components);
    this.sink.entity(components ? { kind, entity_id: e.id, entity: e, components, source } : { kind, entity_id: e.id, entity: e, source }, msg);
  }

  #pose(p: { entity_id?: string; position?: Vector3; rotation?: Quaternion; sequence_number?: number }, source: ChangeSource, msg?: Envelope): void {
    const id = p.entity_id ?? "";
    const thing = this.players.get(id) ?? this.entities.get(id);
    const change: PoseChange = { entity_id: id, target: this.players.has(id) ? "player" : thing ? "entity" : "unknown", sequence_number: p.sequence_number ?? 0, source };
    if (set(p.position)) change.position = vec(p.position!);
    if (set(p.rotation)) change.rotation = quat(p.rotation!);
    if (thing && change.position) thing.position = change.position;
    if (thing && change.rotation) thing.rotation = change.rotation;
    this.sink.position(change, msg);
  }
}

/** EntityUpdate components (bytes) as the room's text. */
function texts(components: Record<string, Uint8Array | string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in components) {
    const v = components[k]!;
    out[k] = typeof v === "string" ? v : componentText(v);
  }
  return out;
}
