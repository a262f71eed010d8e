/**
 * Room moderation (GraphWiz-XR's kick / mute / lock, driven by POST /moderation/*): the state
 * lives in the cluster's {@link RoomControlStore}; each instance keeps a copy per room it serves
 * (the voice path reads it on every frame) that MODERATION events keep current, whichever
 * instance acted. An action is stored, then told to the room as a reliable MODERATION message,
 * and its effect applied where the target is: a kicked client's connections are closed with
 * 4430 (and it may not rejoin for {@link KICK_REJOIN_MS}), a muted client's voice is no longer
 * relayed, a locked room refuses new joins (HTTP 423).
 * @module
 */
import type { RoomControl, RoomControlStore, RoomLock } from "../cluster/control.ts";
import { CloseCode, ErrorCode } from "../errors.ts";
import type { Clock } from "../lib/clock.ts";
import type { Maybe } from "../lib/maybe.ts";
import type { Logger } from "../log.ts";
import { ModerationAction, MessageType, type ModerationEvent } from "../protocol/types.ts";
import type { Broadcaster } from "./broadcast.ts";
import type { Connection } from "./connection.ts";
import { hostAmong } from "./host.ts";
import type { Room } from "./room.ts";
import type { Rooms } from "./rooms.ts";

/** How long a kicked client id may not rejoin the room (its client would reconnect at once). */
export const KICK_REJOIN_MS = 60_000;
/** A muted client that keeps sending voice is told at most this often. */
const MUTED_NOTICE_MS = 5_000;

/** What a room's players look like to moderation (local copy, or the cluster's store). */
export interface RoomPlayer {
  client_id: string;
  user_id?: string;
  display_name?: string;
  joined_at?: number;
}

/** One moderation request, already authorised. */
export type Action =
  | { kind: "kick"; roomId: string; target: string; by: string; reason: string }
  | { kind: "mute"; roomId: string; target: string; muted: boolean; by: string; reason: string }
  | { kind: "lock"; roomId: string; locked: boolean; by: string; reason: string };

/** The outcome: an HTTP status and a sentence. */
export interface Outcome {
  status: number;
  message: string;
}

/** Why an upgrade may not join (admission turns it into the HTTP answer). */
export interface Refusal {
  status: number;
  error: string;
  message: string;
}

interface Cached {
  lock?: RoomLock;
  muted: Set<string>;
  kicked: Record<string, number>;
}

/** What {@link Moderation} needs. */
export interface ModerationOptions {
  control: RoomControlStore;
  rooms: Rooms;
  out: Broadcaster;
  clock: Clock;
  logger: Logger;
  /** The stored players of a room that is not open here (none when the instance is alone). */
  storedPlayers(roomId: string): Promise<RoomPlayer[]>;
}

/** Moderation state and actions of one instance. */
export class Moderation {
  readonly #rooms = new Map<string, Cached>();
  readonly #noticed = new WeakMap<Connection, number>();
  constructor(readonly opts: ModerationOptions) {}

  /** The room's state: this instance's copy while it serves the room, else read from the store. */
  state(roomId: string): Maybe<Cached> {
    const cached = this.#rooms.get(roomId);
    if (cached && this.opts.rooms.get(roomId) !== undefined) return cached;
    const r = this.opts.control.get(roomId);
    return r instanceof Promise ? r.then((c) => this.#keep(roomId, c)) : this.#keep(roomId, r);
  }

  #keep(roomId: string, c: RoomControl): Cached {
    if (this.#rooms.size > 2 * this.opts.rooms.size + 64) {
      for (const id of this.#rooms.keys()) if (!this.opts.rooms.get(id) !== undefined) this.#rooms.delete(id);
    }
    const entry: Cached = { lock: c.lock, muted: new Set(c.muted), kicked: { ...c.kicked } };
    this.#rooms.set(roomId, entry);
    return entry;
  }

  /**
   * Whether an upgrade may join: not while the room is locked (423; a client resuming a session
   * it still has in the room passes), not a client kicked less than KICK_REJOIN_MS ago (403).
   * When the store cannot be read, the instance's last copy decides (or nothing does).
   */
  async admission(roomId: string, clientId: string | undefined, resuming: boolean): Promise<Refusal | undefined> {
    let s: Cached | undefined;
    try {
      s = await this.state(roomId);
    } catch (e) {
      this.opts.logger.warn("moderation_state_unavailable", { room: roomId, message: (e as Error).message });
      s = this.#rooms.get(roomId);
    }
    if (!s) return undefined;
    const now = this.opts.clock.now();
    if (clientId && (s.kicked[clientId] ?? 0) > now) {
      return { status: 403, error: "kicked", message: `Client ${clientId} was kicked from room ${roomId}; it may rejoin in ${Math.ceil((s.kicked[clientId] - now) / 1000)} s` };
    }
    const stays = resuming && clientId !== undefined && this.opts.rooms.get(roomId)?.world.players.has(clientId);
    if (s.lock && !stays) return { status: 423, error: "room_locked", message: `Room ${roomId} is locked${s.lock.reason ? `: ${s.lock.reason}` : ""}` };
    return undefined;
  }

  /**
   * Whether `clientId`'s voice is held back in `roomId` (this instance's copy; read on every
   * voice frame). Without a copy (admission normally makes one) it is read in the background.
   */
  isMuted(roomId: string, clientId: string): boolean {
    const s = this.#rooms.get(roomId);
    if (!s) this.#reload(roomId);
    return s?.muted.has(clientId) === true;
  }

  readonly #loading = new Set<string>();
  #reload(roomId: string): void {
    if (this.#loading.has(roomId)) return;
    this.#loading.add(roomId);
    void Promise.resolve()
      .then(() => this.state(roomId))
      .catch(() => {})
      .finally(() => this.#loading.delete(roomId));
  }

  /** A muted client sent voice: dropped, and it is told — at most every MUTED_NOTICE_MS. */
  mutedVoice(conn: Connection, ref?: string): void {
    const now = this.opts.clock.now();
    if (now - (this.#noticed.get(conn) ?? -Infinity) < MUTED_NOTICE_MS) return;
    this.#noticed.set(conn, now);
    this.opts.out.error(conn, ErrorCode.FORBIDDEN, "You are muted in this room: your voice is not relayed", ref);
  }

  /** The room's players on every instance: this instance's copy while it serves the room, else the store's. */
  async players(roomId: string): Promise<Map<string, RoomPlayer>> {
    const room = this.opts.rooms.get(roomId);
    const out = new Map<string, RoomPlayer>();
    if (room) {
      for (const p of room.world.players.values()) out.set(p.client_id, p);
    } else {
      for (const p of await this.opts.storedPlayers(roomId)) out.set(p.client_id, p);
    }
    return out;
  }

  /** The room's host now ("" when nobody is there). */
  async host(roomId: string): Promise<string> {
    return hostAmong((await this.players(roomId)).values());
  }

  /** Stores an action, tells the room (MODERATION) and applies it here; the other instances apply it on receipt. */
  async act(a: Action): Promise<Outcome> {
    const store = this.opts.control;
    const now = this.opts.clock.now();
    let ev: ModerationEvent;
    if (a.kind === "lock") {
      await store.setLock(a.roomId, a.locked ? { by_client_id: a.by, reason: a.reason, since: now } : undefined);
      ev = { action: a.locked ? ModerationAction.LOCK : ModerationAction.UNLOCK, by_client_id: a.by, reason: a.reason };
    } else {
      const present = (await this.players(a.roomId)).has(a.target);
      if (!present && (a.kind === "kick" || a.muted)) return { status: 404, message: `No client ${a.target} in room ${a.roomId}` };
      if (a.kind === "kick") {
        await store.kick(a.roomId, a.target, now + KICK_REJOIN_MS);
        ev = { action: ModerationAction.KICK, target_client_id: a.target, by_client_id: a.by, reason: a.reason };
      } else {
        await store.setMuted(a.roomId, a.target, a.muted);
        ev = { action: a.muted ? ModerationAction.MUTE : ModerationAction.UNMUTE, target_client_id: a.target, by_client_id: a.by, reason: a.reason };
      }
    }
    const room = this.opts.rooms.get(a.roomId);
    // A room this instance does not serve still reaches the others through the room log.
    this.opts.out.reliable(room ?? this.opts.rooms.channel(a.roomId), { type: MessageType.MODERATION, payload: "moderation", moderation: ev });
    this.applied(room, ev, a.roomId);
    this.opts.logger.info("moderation", { room: a.roomId, action: a.kind, target: "target" in a ? a.target : undefined, by: a.by, on: a.kind === "mute" ? a.muted : a.kind === "lock" ? a.locked : undefined });
    const what = a.kind === "kick" ? `Client ${a.target} kicked from room ${a.roomId}`
      : a.kind === "mute" ? `Client ${a.target} ${a.muted ? "muted" : "unmuted"} in room ${a.roomId}`
      : `Room ${a.roomId} ${a.locked ? "locked" : "unlocked"}`;
    return { status: 200, message: what };
  }

  /** The effect of a MODERATION event on this instance (its own, or one from another instance). */
  applied(room: Room | undefined, ev: ModerationEvent, roomId = room?.id ?? ""): void {
    const s = this.#rooms.get(roomId);
    // No copy yet of a room served here: read it (the store already holds this change).
    if (!s && this.opts.rooms.get(roomId) !== undefined) this.#reload(roomId);
    const target = ev.target_client_id ?? "";
    switch (ev.action) {
      case ModerationAction.KICK: {
        if (s) s.kicked[target] = this.opts.clock.now() + KICK_REJOIN_MS;
        const why = `Kicked from room ${roomId}${ev.reason ? `: ${ev.reason}` : ""}`;
        for (const c of [...(room?.members ?? [])]) if (c.clientId === target) this.opts.out.closeWith(c, CloseCode.KICKED, ErrorCode.DISCONNECT, why);
        break;
      }
      case ModerationAction.MUTE:
        s?.muted.add(target);
        break;
      case ModerationAction.UNMUTE:
        s?.muted.delete(target);
        break;
      case ModerationAction.LOCK:
        if (s) s.lock = { by_client_id: ev.by_client_id ?? "", reason: ev.reason ?? "", since: this.opts.clock.now() };
        break;
      case ModerationAction.UNLOCK:
        if (s) s.lock = undefined;
        break;
    }
  }
}
