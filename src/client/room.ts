/**
 * The room as this client knows it: players, entities, who holds what and the host, kept
 * exactly as the server's world keeps them (src/core/world.ts, holds.ts, host.ts) — from the
 * SERVER_HELLO snapshot, the server's messages, and this client's own sends (the server never
 * echoes a message to its sender, so they are applied here, and undone if the server answers
 * them with an ERROR).
 *
 * Every change is announced once, as a typed event with its `source`. One handler per payload
 * kind (`apply`), so new world state is one more case here.
 * @module
 */
import { PoseSlots } from "./poses.ts";
import { MessageType, type Envelope, type ObjectGrab, type PresenceData, type Quaternion, type Vector3 } from "../protocol/types.ts";
import { Holds, type HoldChange } from "./holds.ts";
import type { HelloInfo } from "./json.ts";
import { entityFrom, holdFrom, mergePlayer, quat, same, set, texts, vec, type ChangeSource, type Entity, type Hold, type Player } from "./shapes.ts";

export type { ChangeSource, Entity, Hold, Player } from "./shapes.ts";
export type { HoldChange } from "./holds.ts";
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
/** A `host` event: the room has a new host (the longest-present member). */
export interface HostChange {
  host_client_id: string;
  /** The host before (undefined when this client did not know one yet). */
  previous?: string;
  /** True when the new host is this client. */
  self: boolean;
  source: ChangeSource;
}

/** How the room state announces changes (the client's emitter). */
export interface RoomSink {
  presence(ev: PresenceChange, msg?: Envelope): void;
  entity(ev: EntityChange, msg?: Envelope): void;
  position(ev: PoseChange, msg?: Envelope): void;
  hold(ev: HoldChange, msg?: Envelope): void;
  host(ev: HostChange, msg?: Envelope): void;
}

/** Most undo steps kept: for an acknowledging client only its unanswered sends stay (ACCEPTED drops one). */
const UNDO_LIMIT = 256;

/** Players, entities, holds and the host of the room this client is in. */
export class RoomState {
  readonly players = new Map<string, Player>();
  readonly entities = new Map<string, Entity>();
  /** Object id → who holds it. */
  readonly holds: Holds;
  /** POSE_BATCH slot names of this connection. */
  readonly slots = new PoseSlots();
  /** The room's host, as the server last named it. */
  host?: string;
  /** This client's id. */
  self?: string;
  /** Undo steps of own sends, by message id (the newest {@link UNDO_LIMIT}). */
  readonly #undo = new Map<string, () => void>();
  constructor(readonly sink: RoomSink) {
    this.holds = new Holds(() => this.self, (ev, msg) => sink.hold(ev, msg));
  }

  /**
   * A SERVER_HELLO. A resumed session keeps its state (the missed messages follow) and takes
   * only the latest poses from the snapshot; otherwise the state becomes the snapshot and the
   * differences are announced (`source: "snapshot"`), so an event-driven view never goes stale.
   */
  reset(hello: HelloInfo): void {
    this.self = hello.client_id;
    this.slots.clear();
    const snap = hello.initial_state ?? {};
    const players = new Map((snap.players ?? []).map((p) => [String(p.client_id), mergePlayer({ client_id: String(p.client_id) }, p)] as const));
    const entities = new Map((snap.entities ?? []).map((e) => [String(e.id), entityFrom(e)] as const));
    const holds = new Map<string, Hold>();
    for (const p of snap.players ?? []) for (const g of (p.holding ?? []) as ObjectGrab[]) holds.set(g.entity_id ?? "", holdFrom(g, String(p.client_id)));
    if (hello.resumed) {
      if (this.host === undefined) this.#setHost(hello.host_client_id, "snapshot");
      return this.#refreshPoses(players, entities);
    }
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
    this.holds.reset(holds);
    this.#setHost(hello.host_client_id, "snapshot");
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
          this.holds.releaseAll(id, msg); // the server's OBJECT_RELEASEs that follow find nothing left
        } else this.#presence(known ? "update" : "join", mergePlayer({ ...(known ?? { client_id: id }) }, ev.data ?? {}), "server", msg);
        // Joins and leaves name the host after them; a new host is announced by a PRESENCE_UPDATE about it.
        return this.#setHost(ev.data?.host_client_id, "server", msg);
      }
      case "position_update": return this.#pose(msg.position_update!, "server", msg);
      case "pose_batch":
        for (const p of this.slots.read(msg.pose_batch!)) if (p.entity_id !== this.self) this.#pose(p, "server", msg);
        return;
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
      case "object_grab": return this.holds.grab(holdFrom(msg.object_grab!), "server", msg);
      case "object_release": {
        const r = msg.object_release!;
        return this.holds.release(r.entity_id ?? "", "server", msg, r);
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
        const data: PresenceData = msg.payload === "client_hello" ? msg.client_hello! : msg.presence_event!.data ?? {};
        const p = this.players.get(me);
        if (!p) return;
        // joined_at and the host are the server's to say.
        const after = mergePlayer({ ...p }, { ...data, joined_at: 0 });
        this.#presence("update", after, "local");
        return this.#remember(id, () => {
          // Undo the fields this update set that nothing changed since.
          const now = this.players.get(me);
          if (!now) return;
          const back = { ...now } as Record<string, unknown>;
          const was = p as Record<string, unknown>, mine = after as Record<string, unknown>;
          for (const k in mine) if (!same(was[k], mine[k]) && same(back[k], mine[k])) was[k] === undefined ? delete back[k] : (back[k] = was[k]);
          if (!same(back, now)) this.#presence("update", back as Player, "revert");
        });
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
      case "object_grab": {
        const g = msg.object_grab!;
        if (g.entity_id) this.#remember(id, this.holds.grabLocal(holdFrom({ ...g, timestamp: msg.timestamp }, me)));
        return;
      }
      case "object_release": {
        const r = msg.object_release!;
        return this.#remember(id, this.holds.releaseLocal(r.entity_id ?? "", me, r));
      }
    }
  }

  /** The server refused message `refMessageId`: undo its local effect (if it had one). */
  revert(refMessageId: string): void {
    const undo = this.#undo.get(refMessageId);
    this.#undo.delete(refMessageId);
    undo?.();
  }

  /** The server took message `refMessageId` into the room (ACCEPTED): its undo step is no longer needed. */
  accepted(refMessageId: string): void {
    this.#undo.delete(refMessageId);
  }

  #remember(messageId: string, undo: (() => void) | undefined): void {
    if (!undo) return;
    this.#undo.set(messageId, undo);
    if (this.#undo.size > UNDO_LIMIT) this.#undo.delete(this.#undo.keys().next().value!);
  }

  #setHost(id: string | undefined, source: ChangeSource, msg?: Envelope): void {
    if (!id || id === this.host) return;
    const previous = this.host;
    this.host = id;
    this.sink.host({ host_client_id: id, previous, self: id === this.self, source }, msg);
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
