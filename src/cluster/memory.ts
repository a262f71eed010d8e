/**
 * The in-memory cluster backend: one {@link MemoryBroker} stands in for Redis, and each
 * in-process "node" (a hub) gets its own bus, room log and presence view of the shared state
 * through {@link MemoryBroker.node}. Without REDIS_URL a server runs one node on its own broker.
 *
 * Differences from Redis, by design: `RoomLog.append/read/head` answer synchronously; the
 * history keeps exactly `historySize` entries (Redis: at least) and also drops entries older
 * than `historyTtlMs`; bus frames are delivered on a microtask (or synchronously with
 * `delivery: "sync"`), and {@link MemoryBroker.flush} delivers pending ones at once. Session
 * records expire by the injected clock.
 * @module
 */
import { systemClock, type Clock } from "../core/clock.ts";
import { silentLogger, type Logger } from "../log.ts";
import {
  CLUSTER_DEFAULTS,
  ClusterUnavailableError,
  decodeSession,
  encodeSession,
  randomEpoch,
  sequenced,
  StatusCell,
  validSessionId,
} from "./shared.ts";
import type {
  BackendStatus,
  BusHandler,
  ClusterBackend,
  ClusterBus,
  DeadNode,
  LogEntry,
  MemberInfo,
  NodeInfo,
  PresenceStore,
  RoomLog,
  SessionRecord,
} from "./types.ts";

/** Options of a {@link MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** @default systemClock */
  clock?: Clock;
  /** @default CLUSTER_DEFAULTS.nodeTtlMs */
  nodeTtlMs?: number;
  /** Entries kept per room. @default CLUSTER_DEFAULTS.historySize */
  historySize?: number;
  /** Entries older than this are dropped; a room idle this long starts a new epoch. @default CLUSTER_DEFAULTS.historyTtlMs */
  historyTtlMs?: number;
  /** When bus frames reach other nodes. @default "microtask" */
  delivery?: "sync" | "microtask";
  /** @default silentLogger */
  log?: Logger;
}

interface RoomLogState {
  epoch: number;
  seq: number;
  /** Ring of the last `historySize` entries, at `seq % historySize` (grows as entries come). */
  ring: (LogEntry | undefined)[];
  /** Append time of each ring slot. */
  at: number[];
  /** Oldest seq still readable (entries before it were trimmed by count or age). */
  oldest: number;
  /** Last append (or creation); the state is forgotten `historyTtlMs` after it. */
  touched: number;
}

interface RoomPresence {
  members: Map<string, MemberInfo>;
  players: Map<string, Uint8Array>;
  entities: Map<string, { owner: string; snapshot: Uint8Array }>;
}

/** The shared state several in-process nodes see, as one Redis would be. */
export class MemoryBroker {
  readonly clock: Clock;
  readonly nodeTtlMs: number;
  readonly historySize: number;
  readonly historyTtlMs: number;
  readonly delivery: "sync" | "microtask";
  readonly log: Logger;
  readonly status = new StatusCell();

  /** @internal room → subscribed buses */
  readonly subs = new Map<string, Set<MemoryBus>>();
  /** @internal */
  readonly logs = new Map<string, RoomLogState>();
  /** @internal */
  readonly rooms = new Map<string, RoomPresence>();
  /** @internal node id → last heartbeat info */
  readonly registry = new Map<string, NodeInfo>();
  /** @internal session id → stored JSON and when it expires (ms) */
  readonly sessions = new Map<string, { json: string; expiresAt: number }>();

  // Pending deliveries as parallel arrays (no object per frame).
  #qBus: MemoryBus[] = [];
  #qRoom: string[] = [];
  #qFrame: Uint8Array[] = [];
  #qFrom: string[] = [];
  #scheduled = false;
  #nextSweep = 0;
  #nextSessionSweep = 0;

  constructor(opts: MemoryBrokerOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.nodeTtlMs = opts.nodeTtlMs ?? CLUSTER_DEFAULTS.nodeTtlMs;
    this.historySize = Math.max(1, opts.historySize ?? CLUSTER_DEFAULTS.historySize);
    this.historyTtlMs = opts.historyTtlMs ?? CLUSTER_DEFAULTS.historyTtlMs;
    this.delivery = opts.delivery ?? "microtask";
    this.log = opts.log ?? silentLogger;
  }

  /** The bus, room log and presence store of one node sharing this broker. */
  node(nodeId: string): MemoryNode {
    return new MemoryNode(this, nodeId);
  }

  /** Whether the broker is reachable (for tests of the hub's fallbacks; default true). */
  get available(): boolean {
    return this.status.get().healthy;
  }

  /**
   * Simulates losing (`false`) or regaining the backend: while unavailable, publishes are
   * dropped and counted, `append` throws {@link ClusterUnavailableError} and presence calls
   * reject with it; every node's `onStatus` fires.
   */
  setAvailable(available: boolean, reason = "Memory broker marked unavailable"): void {
    const was = this.available;
    this.status.set(available, available ? undefined : reason);
    if (available && !was) for (const n of this.#nodes) n.bus.counters.reconnects++;
  }

  /** @internal every node ever made (for reconnect counters) */
  readonly #nodes = new Set<MemoryNode>();
  /** @internal */
  adopt(n: MemoryNode): void {
    this.#nodes.add(n);
  }
  /** @internal */
  release(n: MemoryNode): void {
    this.#nodes.delete(n);
  }

  /** @internal Throws when unavailable. */
  check(): void {
    if (!this.available) throw new ClusterUnavailableError(`Cluster backend unavailable: ${this.status.get().reason}`);
  }

  /** @internal Queues (or, with `delivery: "sync"`, makes) the deliveries of one publication. */
  fanout(from: MemoryBus, room: string, frame: Uint8Array): void {
    const subs = this.subs.get(room);
    if (!subs) return;
    for (const bus of subs) {
      if (bus === from) continue;
      if (this.delivery === "sync") {
        bus.deliver(room, frame, from.nodeId);
        continue;
      }
      this.#qBus.push(bus);
      this.#qRoom.push(room);
      this.#qFrame.push(frame);
      this.#qFrom.push(from.nodeId);
    }
    if (!this.#scheduled && this.#qBus.length > 0) {
      this.#scheduled = true;
      queueMicrotask(this.#drain);
    }
  }

  readonly #drain = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** Delivers every pending bus frame now, in publication order. */
  flush(): void {
    // Frames published while draining are appended and delivered in the same loop.
    for (let i = 0; i < this.#qBus.length; i++) {
      this.#qBus[i]!.deliver(this.#qRoom[i]!, this.#qFrame[i]!, this.#qFrom[i]!);
    }
    this.#qBus = [];
    this.#qRoom = [];
    this.#qFrame = [];
    this.#qFrom = [];
  }

  /** @internal The log of `room`, created (new epoch) when absent or idle past the TTL. */
  logState(room: string, create: boolean): RoomLogState | undefined {
    const now = this.clock.now();
    if (now >= this.#nextSweep) this.#sweep(now);
    let s = this.logs.get(room);
    if (s && now - s.touched > this.historyTtlMs) {
      this.logs.delete(room);
      s = undefined;
    }
    if (!s && create) {
      s = { epoch: randomEpoch(), seq: 0, ring: [], at: [], oldest: 1, touched: now };
      this.logs.set(room, s);
    }
    if (s) this.#trimAge(s, now);
    return s;
  }

  #trimAge(s: RoomLogState, now: number): void {
    const cutoff = now - this.historyTtlMs;
    const n = this.historySize;
    while (s.oldest <= s.seq && s.at[s.oldest % n]! < cutoff) {
      s.ring[s.oldest % n] = undefined;
      s.oldest++;
    }
  }

  #sweep(now: number): void {
    this.#nextSweep = now + Math.max(1_000, this.historyTtlMs / 2);
    for (const [room, s] of this.logs) if (now - s.touched > this.historyTtlMs) this.logs.delete(room);
  }

  /** @internal The live session entry of `id` (an expired one is dropped). */
  session(id: string): { json: string; expiresAt: number } | undefined {
    const e = this.sessions.get(id);
    if (e && e.expiresAt <= this.clock.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return e;
  }

  /** @internal Stores a session entry, dropping expired ones now and then (as Redis expires keys). */
  putSession(id: string, json: string, ttl: number): void {
    const now = this.clock.now();
    if (now >= this.#nextSessionSweep) {
      this.#nextSessionSweep = now + 1_000;
      for (const [sid, e] of this.sessions) if (e.expiresAt <= now) this.sessions.delete(sid);
    }
    this.sessions.set(id, { json, expiresAt: now + ttl });
  }

  /** @internal */
  presence(room: string, create: true): RoomPresence;
  presence(room: string, create: false): RoomPresence | undefined;
  presence(room: string, create: boolean): RoomPresence | undefined {
    let p = this.rooms.get(room);
    if (!p && create) this.rooms.set(room, (p = { members: new Map(), players: new Map(), entities: new Map() }));
    return p;
  }

  /** @internal Drops a room's presence once it holds nothing (as Redis deletes empty hashes). */
  tidy(room: string, p: RoomPresence): void {
    if (p.members.size === 0 && p.players.size === 0 && p.entities.size === 0) this.rooms.delete(room);
  }
}

/** One node's view of a {@link MemoryBroker}. */
export class MemoryNode implements ClusterBackend {
  readonly kind = "memory" as const;
  readonly bus: MemoryBus;
  readonly log: MemoryRoomLog;
  readonly presence: MemoryPresence;

  constructor(readonly broker: MemoryBroker, readonly nodeId: string) {
    this.bus = new MemoryBus(broker, nodeId);
    this.log = new MemoryRoomLog(broker, this.bus);
    this.presence = new MemoryPresence(broker, nodeId);
    broker.adopt(this);
  }

  async close(): Promise<void> {
    await this.bus.close();
    await this.presence.close();
    this.broker.release(this);
  }
}

/** Per-room publish/subscribe between the nodes of one broker. */
export class MemoryBus implements ClusterBus {
  readonly counters = { published: 0, received: 0, dropped: 0, errors: 0, reconnects: 0 };
  readonly #rooms = new Set<string>();
  #handler: BusHandler | null = null;
  #closed = false;

  constructor(readonly broker: MemoryBroker, readonly nodeId: string) {}

  async subscribe(room: string): Promise<void> {
    if (this.#closed || this.#rooms.has(room)) return;
    this.#rooms.add(room);
    let set = this.broker.subs.get(room);
    if (!set) this.broker.subs.set(room, (set = new Set()));
    set.add(this);
  }

  async unsubscribe(room: string): Promise<void> {
    if (!this.#rooms.delete(room)) return;
    const set = this.broker.subs.get(room);
    if (!set) return;
    set.delete(this);
    if (set.size === 0) this.broker.subs.delete(room);
  }

  publish(room: string, frame: Uint8Array): void {
    if (this.#closed) return;
    if (!this.broker.available) {
      this.counters.dropped++;
      return;
    }
    this.counters.published++;
    this.broker.fanout(this, room, frame);
  }

  /** @internal */
  deliver(room: string, frame: Uint8Array, from: string): void {
    if (this.#closed || !this.#rooms.has(room)) return;
    this.counters.received++;
    const h = this.#handler;
    if (!h) return;
    try {
      h(room, frame, from);
    } catch (e) {
      this.counters.errors++;
      this.broker.log.error("cluster_handler_error", { room, from, error: (e as Error)?.message ?? String(e) });
    }
  }

  onFrame(handler: BusHandler): void {
    this.#handler = handler;
  }
  status(): BackendStatus {
    return this.broker.status.get();
  }
  onStatus(cb: (s: BackendStatus) => void): void {
    this.broker.status.on((s) => {
      if (!this.#closed) cb(s);
    });
  }
  /** Rooms this node receives. */
  get rooms(): ReadonlySet<string> {
    return this.#rooms;
  }
  async close(): Promise<void> {
    for (const room of [...this.#rooms]) await this.unsubscribe(room);
    this.#closed = true;
  }
}

/** The room log over the broker's shared state; every call answers synchronously. */
export class MemoryRoomLog implements RoomLog {
  constructor(readonly broker: MemoryBroker, readonly bus: MemoryBus) {}

  /** @throws {ClusterUnavailableError} while the broker is marked unavailable. */
  append(room: string, frame: Uint8Array): LogEntry {
    this.broker.check();
    const s = this.broker.logState(room, true)!;
    const n = this.broker.historySize;
    const seq = ++s.seq;
    const entry: LogEntry = { seq, epoch: s.epoch, frame: sequenced(frame, seq, s.epoch) };
    s.ring[seq % n] = entry;
    s.at[seq % n] = s.touched = this.broker.clock.now();
    if (seq - s.oldest >= n) s.oldest = seq - n + 1;
    this.bus.publish(room, entry.frame);
    return entry;
  }

  read(room: string, epoch: number, afterSeq: number, limit: number): LogEntry[] | null {
    this.broker.check();
    const s = this.broker.logState(room, false);
    if (!s || s.epoch !== epoch || afterSeq > s.seq || afterSeq < 0) return null;
    if (afterSeq + 1 < s.oldest) return null;
    const out: LogEntry[] = [];
    const end = Math.min(s.seq, afterSeq + Math.max(0, limit));
    const n = this.broker.historySize;
    for (let q = afterSeq + 1; q <= end; q++) out.push(s.ring[q % n]!);
    return out;
  }

  head(room: string): { epoch: number; seq: number } {
    this.broker.check();
    const s = this.broker.logState(room, true)!;
    return { epoch: s.epoch, seq: s.seq };
  }
}

/** Members, world state and node liveness over the broker's shared state. */
export class MemoryPresence implements PresenceStore {
  #closed = false;
  constructor(readonly broker: MemoryBroker, readonly nodeId: string) {}

  async addMember(m: MemberInfo): Promise<void> {
    this.broker.check();
    this.broker.presence(m.room_id, true).members.set(m.connection_id, { ...m });
  }
  async removeMember(room: string, connectionId: string): Promise<void> {
    this.broker.check();
    const p = this.broker.presence(room, false);
    if (!p) return;
    p.members.delete(connectionId);
    this.broker.tidy(room, p);
  }
  async members(room: string): Promise<MemberInfo[]> {
    this.broker.check();
    const p = this.broker.presence(room, false);
    return p ? [...p.members.values()].map((m) => ({ ...m })) : [];
  }
  async totalConnections(): Promise<number> {
    let sum = 0;
    for (const n of await this.nodes()) sum += n.connections;
    return sum;
  }

  async setPlayer(room: string, clientId: string, snapshot: Uint8Array): Promise<void> {
    this.broker.check();
    this.broker.presence(room, true).players.set(clientId, snapshot.slice());
  }
  async removePlayer(room: string, clientId: string): Promise<void> {
    this.broker.check();
    const p = this.broker.presence(room, false);
    if (!p) return;
    p.players.delete(clientId);
    this.broker.tidy(room, p);
  }
  async setEntity(room: string, entityId: string, ownerClientId: string, snapshot: Uint8Array): Promise<void> {
    this.broker.check();
    this.broker.presence(room, true).entities.set(entityId, { owner: ownerClientId, snapshot: snapshot.slice() });
  }
  async removeEntity(room: string, entityId: string): Promise<void> {
    this.broker.check();
    const p = this.broker.presence(room, false);
    if (!p) return;
    p.entities.delete(entityId);
    this.broker.tidy(room, p);
  }
  async world(room: string): Promise<{ players: Uint8Array[]; entities: Uint8Array[] }> {
    this.broker.check();
    const p = this.broker.presence(room, false);
    if (!p) return { players: [], entities: [] };
    return { players: [...p.players.values()], entities: [...p.entities.values()].map((e) => e.snapshot) };
  }

  #beaten = false;
  async heartbeat(node: NodeInfo): Promise<{ forgotten: boolean }> {
    this.broker.check();
    if (this.#closed) return { forgotten: false };
    const known = this.broker.registry.has(node.node_id);
    this.broker.registry.set(node.node_id, { ...node, last_heartbeat: this.broker.clock.now() });
    const forgotten = this.#beaten && !known;
    this.#beaten = true;
    return { forgotten };
  }
  async nodes(): Promise<NodeInfo[]> {
    this.broker.check();
    const cutoff = this.broker.clock.now() - this.broker.nodeTtlMs;
    return [...this.broker.registry.values()].filter((n) => n.last_heartbeat >= cutoff).map((n) => ({ ...n }));
  }

  async reapDeadNodes(): Promise<DeadNode[]> {
    this.broker.check();
    const b = this.broker;
    const cutoff = b.clock.now() - b.nodeTtlMs;
    const dead: DeadNode[] = [];
    for (const [id, info] of b.registry) {
      if (id === this.nodeId || info.last_heartbeat >= cutoff) continue;
      b.registry.delete(id); // the claim: synchronous, so exactly one caller gets it
      const report: DeadNode = { node_id: id, rooms: [] };
      for (const [room, p] of b.rooms) {
        const r = reapRoom(p, id);
        if (r) report.rooms.push({ room, ...r });
        b.tidy(room, p);
      }
      dead.push(report);
    }
    return dead;
  }

  async putSession(s: SessionRecord, ttlMs: number): Promise<void> {
    const { json, ttl } = encodeSession(s, ttlMs);
    this.broker.check();
    this.broker.putSession(s.id, json, ttl);
  }
  async getSession(id: string): Promise<SessionRecord | undefined> {
    if (!validSessionId(id)) return undefined;
    this.broker.check();
    const e = this.broker.session(id);
    return e && decodeSession(e.json);
  }
  async deleteSession(id: string): Promise<void> {
    if (!validSessionId(id)) return;
    this.broker.check();
    this.broker.sessions.delete(id);
  }

  status(): BackendStatus {
    return this.broker.status.get();
  }
  onStatus(cb: (s: BackendStatus) => void): void {
    this.broker.status.on((s) => {
      if (!this.#closed) cb(s);
    });
  }
  /**
   * Leaves the node registry at once when no member of this node remains (a graceful
   * shutdown); otherwise its entry stays so a survivor reaps what it left.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.broker.rooms.values()) for (const m of p.members.values()) if (m.node_id === this.nodeId) return;
    this.broker.registry.delete(this.nodeId);
  }
}

/** Removes `nodeId`'s members from one room, then the players and entities of clients left with none. */
function reapRoom(p: RoomPresence, nodeId: string): { members: MemberInfo[]; clients: string[]; entities: string[] } | null {
  const members: MemberInfo[] = [];
  for (const m of p.members.values()) if (m.node_id === nodeId) members.push(m);
  if (members.length === 0) return null;
  for (const m of members) p.members.delete(m.connection_id);
  const still = new Set<string>();
  for (const m of p.members.values()) still.add(m.client_id);
  const clients: string[] = [];
  for (const m of members) {
    if (still.has(m.client_id) || clients.includes(m.client_id)) continue;
    clients.push(m.client_id);
    p.players.delete(m.client_id);
  }
  const entities: string[] = [];
  for (const [eid, e] of p.entities) {
    if (clients.includes(e.owner)) {
      entities.push(eid);
      p.entities.delete(eid);
    }
  }
  return { members, clients, entities };
}
