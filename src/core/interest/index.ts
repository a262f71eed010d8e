/**
 * Interest management and per-tick batches for big rooms (docs/protocol.md, "Batches and
 * interest"). A room with at least INTEREST_MIN_ROOM_SIZE players (cluster-wide) switches to
 * batch mode, and back below 3/4 of that: position updates, local or remote, are no longer
 * relayed one by one but {@link Interest.take}n into the room's pose table, and every tick
 * (ROOM_TICK_HZ, split in 4 timer calls each serving a quarter of the members) each member
 * gets the poses of its nearest entities and those it follows, and one shared group of all
 * the others (each group comes round at INTEREST_FAR_HZ). Batch clients get one POSE_BATCH,
 * the others the same selection as single POSITION_UPDATE frames. A member whose socket is
 * backed up is skipped; its next frame carries the newest poses.
 * @module
 */
import type { Clock, TimerHandle } from "../../lib/clock.ts";
import type { Frame } from "../../lib/transport.ts";
import { Outbound } from "../../protocol/codec.ts";
import { MessageType, type Envelope, type Quaternion, type Vector3 } from "../../protocol/types.ts";
import { LatencyHistogram } from "../../observability/histogram.ts";
import type { Connection } from "../connection.ts";
import type { Room } from "../room.ts";
import { batchFrame, batchJson } from "./codec.ts";
import { nearest } from "./select.ts";
import { RoomState } from "./room-state.ts";
import type { PoseEntry, PoseTable } from "./table.ts";
import { View } from "./view.ts";

/** Where position updates go first: `true` means taken (not relayed one by one). */
export interface PoseSink {
  take(room: Room, out: Outbound): boolean;
}

/** The interest settings (src/config.ts). */
export interface InterestConfig {
  /** ROOM_TICK_HZ. */
  tickHz: number;
  /** INTEREST_NEAREST. */
  nearest: number;
  /** INTEREST_RADIUS (metres). */
  radius: number;
  /** INTEREST_FAR_HZ. */
  farHz: number;
  /** INTEREST_MIN_ROOM_SIZE (0: never batch). */
  minRoomSize: number;
}

/** What {@link Interest} needs. */
export interface InterestOptions {
  config: InterestConfig;
  clock: Clock;
  /** Sends a frame (a POSE_BATCH when `batch`, else a POSITION_UPDATE) unless the connection is backed up; false when skipped. */
  send(conn: Connection, frame: Frame, batch: boolean): boolean;
}

const PHASES = 4;
/** Ticks between two nearest selections of one member. */
const RESELECT = 4;
/** Most entities one client may follow. */
export const MAX_FOLLOWS = 64;

/** Interest management for every room of one server. */
export class Interest implements PoseSink {
  readonly #rooms = new Map<Room, RoomState>();
  readonly #sel: PoseEntry[] = [];
  /** How long each timer call (a quarter of one room's members) took, ms (for /metrics). */
  readonly phaseTime = new LatencyHistogram();
  /** Frames not sent because the member's socket was backed up (its next frame catches up). */
  skipped = 0;

  constructor(readonly opts: InterestOptions) {}

  /** Rooms of this instance in batch mode now. */
  get batchRooms(): number {
    let n = 0;
    for (const s of this.#rooms.values()) if (s.batching) n++;
    return n;
  }

  /** The number of ticks between two rounds of one far group. */
  get groups(): number {
    const c = this.opts.config;
    return Math.max(1, Math.round(c.tickHz / Math.max(c.farHz, 0.001)));
  }

  /** Whether `room` is in batch mode now. */
  batching(room: Room): boolean {
    return this.#rooms.get(room)?.batching === true;
  }

  /** The pose table of `room`, when it keeps one. */
  table(room: Room): PoseTable | undefined {
    return this.#rooms.get(room)?.table;
  }

  take(room: Room, out: Outbound): boolean {
    const min = this.opts.config.minRoomSize;
    if (min <= 0) return false;
    const n = room.world.players.size;
    let s = this.#rooms.get(room);
    if (!s) {
      if (n < min * 0.75) return false;
      s = new RoomState(room);
      this.#rooms.set(room, s);
      this.#seed(s);
    }
    s.table.put(out.owned(), this.opts.clock.now()); // kept until the entity's next pose: not a slab view
    this.#mode(s, n);
    return s.batching;
  }

  #mode(s: RoomState, n: number): void {
    const min = this.opts.config.minRoomSize;
    if (!s.batching && n >= min) {
      s.batching = true;
      const ms = 1000 / this.opts.config.tickHz / PHASES;
      s.timer = this.opts.clock.setInterval(() => this.#phase(s), ms);
    } else if (s.batching && n < min * 0.75) {
      s.batching = false;
      this.opts.clock.clearInterval(s.timer);
      s.timer = undefined;
    }
  }

  /** A new table starts from the poses the room's world already holds (standing avatars too). */
  #seed(s: RoomState): void {
    const now = this.opts.clock.now();
    const w = s.room.world;
    const known: [string, { position?: Vector3; rotation?: Quaternion }][] = [];
    for (const p of w.players.values()) known.push([p.client_id, p]);
    for (const e of w.entities.values()) known.push([e.id, e]);
    for (const [id, p] of known) {
      if (!p.position) continue;
      const msg: Envelope = { type: MessageType.POSITION_UPDATE, payload: "position_update", message_id: "", timestamp: now, position_update: { entity_id: id, position: p.position, rotation: p.rotation } };
      s.table.put(new Outbound(msg), now);
    }
  }

  /** The room has no members left here: its state and timer go. */
  forget(room: Room): void {
    const s = this.#rooms.get(room);
    if (!s) return;
    if (s.timer !== undefined) this.opts.clock.clearInterval(s.timer);
    this.#rooms.delete(room);
  }

  /** Stops every room's timer. */
  stop(): void {
    for (const s of this.#rooms.values()) if (s.timer !== undefined) this.opts.clock.clearInterval(s.timer);
    this.#rooms.clear();
  }

  /** Sets or clears follows of `conn` (FOLLOW / UNFOLLOW). */
  follow(conn: Connection, ids: readonly string[], on: boolean): void {
    const f = (conn.follows ??= new Set());
    for (const id of ids) {
      if (on && f.size < MAX_FOLLOWS && id !== conn.clientId) f.add(id);
      else if (!on) f.delete(id);
    }
  }

  /** One timer call: a quarter of the members. */
  #phase(s: RoomState): void {
    const room = s.room;
    if (room.members.size === 0) {
      this.opts.clock.clearInterval(s.timer);
      this.#rooms.delete(room);
      return;
    }
    const t0 = performance.now();
    if (s.phase === 0) this.#startTick(s);
    const now = this.opts.clock.now();
    for (let i = s.phase; i < s.members.length; i += PHASES) {
      const m = s.members[i];
      if (!m.isClosed && m.joined && m.room === room) this.#serve(s, m, now, i);
    }
    this.phaseTime.record(performance.now() - t0);
    s.phase = (s.phase + 1) % PHASES;
    if (s.phase === 0 && !s.batching) {
      this.opts.clock.clearInterval(s.timer);
      s.timer = undefined;
    }
  }

  #startTick(s: RoomState): void {
    s.tick++;
    const G = this.groups;
    const room = s.room;
    this.#mode(s, room.world.players.size);
    if (s.tick % G === 0) {
      const gone = s.table.prune((id) => room.world.players.has(id) || room.world.entities.has(id));
      if (gone.length) for (const m of room.members) if (m.view) for (const g of gone) m.view.sent.delete(g);
      for (const e of s.farSent.keys()) if (e.dead) s.farSent.delete(e);
    }
    s.members = [...room.members];
    s.buildFar(s.tick % G, G);
  }

  #serve(s: RoomState, m: Connection, now: number, index: number): void {
    const t = s.table;
    let v = m.view;
    if (!v || v.table !== t) v = m.view = new View(t);
    // The nearest are chosen again every RESELECT ticks (an avatar walks ~0.3 m meanwhile; the
    // 10 % margin covers it), spread over the ticks by member.
    if (s.tick - v.nearTick >= RESELECT) {
      const me = t.byId.get(m.clientId) ?? s.room.world.players.get(m.clientId)?.position;
      v.keep();
      nearest(t, me?.x ?? 0, me?.z ?? 0, m.clientId, { k: this.opts.config.nearest, radius: this.opts.config.radius }, v.near);
      v.recall();
      v.nearTick = s.tick - (v.nearTick === -Infinity ? (index >> 2) % RESELECT : 0);
    }
    const near = v.near, ver = v.nearVer;
    const follows = this.#sel;
    follows.length = 0;
    if (m.follows) for (const id of m.follows) {
      const e = t.byId.get(id);
      if (e && v.sent.get(e.slot) !== e.version) follows.push(e);
    }
    if (m.batch !== true || m.format === "xr") return this.#singles(s, m, v, follows);
    // Intros first (new slots, with their entity ids), then near and followed, then the far group.
    const list = t.list;
    const from = t.indexFrom(v.introduced);
    const newFrom = from < list.length ? list[from].slot : Infinity;
    const json = m.format === "json";
    const b = new Batch(json);
    for (let i = from; i < list.length; i++) b.add(list[i], true);
    for (let i = 0; i < near.length; i++) {
      const e = near[i];
      if (e.dead || ver[i] === e.version || e.slot >= newFrom) continue;
      ver[i] = e.version;
      b.add(e, false);
    }
    for (const e of follows) {
      v.sent.set(e.slot, e.version);
      if (e.slot < newFrom) b.add(e, false);
    }
    // (A client that turned batch on during this tick gets the far group from the next one.)
    if (json && s.farJs) {
      b.count += s.far.length;
      b.texts.push(s.farJs);
    } else if (!json && s.farPbBytes) {
      b.count += s.far.length;
      for (const x of s.farPb) b.parts.push(x);
      b.bytes += s.farPbBytes;
    }
    if (b.count === 0) return;
    const frame = json ? batchJson(now, b.texts) : batchFrame(now, b.parts, b.bytes);
    if (!this.opts.send(m, frame, true)) return this.#skip(v); // the next frame carries everything new
    if (list.length) v.introduced = list[list.length - 1].slot + 1;
  }

  /** The same selection as single POSITION_UPDATE frames (clients that take no batches). */
  #singles(s: RoomState, m: Connection, v: View, follows: PoseEntry[]): void {
    const near = v.near, ver = v.nearVer;
    for (let i = 0; i < near.length; i++) {
      const e = near[i];
      if (e.dead || ver[i] === e.version) continue;
      if (!this.opts.send(m, e.out.frame(m.format), false)) return this.#skip(v);
      ver[i] = e.version;
    }
    for (const e of follows) {
      if (!this.opts.send(m, e.out.frame(m.format), false)) return this.#skip(v);
      v.sent.set(e.slot, e.version);
    }
    for (const e of s.far) if (e.id !== m.clientId && !this.opts.send(m, e.out.frame(m.format), false)) return void this.skipped++;
  }

  #skip(v: View): void {
    this.skipped++;
    v.forget();
  }
}

/** One member's batch being gathered: pose entries encoded once per format, joined when sent. */
class Batch {
  readonly parts: Uint8Array[] = [];
  readonly texts: string[] = [];
  bytes = 0;
  count = 0;
  constructor(readonly json: boolean) {}

  /** Adds entry `e` (`intro`: with its entity id, the slot's first mention to this member). */
  add(e: PoseEntry, intro: boolean): void {
    this.count++;
    if (this.json) return void this.texts.push(e.json(intro));
    const b = e.pb(intro);
    this.parts.push(b);
    this.bytes += b.length;
  }
}
