/**
 * The memory backend's shared state: one {@link MemoryBroker} stands in for Redis (bus
 * delivery, room logs, presence, node registry, sessions), and {@link MemoryNode} is one
 * node's view of it.
 * @module
 */
import { systemClock, type Clock } from "../core/clock.ts";
import { silentLogger, type Logger } from "../log.ts";
import { CLUSTER_DEFAULTS, ClusterUnavailableError, StatusCell } from "./shared.ts";
import { MemoryBus } from "./memory-bus.ts";
import { MemoryLogs, MemoryRoomLog } from "./memory-log.ts";
import { MemoryPresence } from "./memory-presence.ts";
import type { ClusterBackend, MemberInfo, NodeInfo } from "./types.ts";

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
  /**
   * When bus frames reach other nodes. `"manual"` is a test seam: frames wait until
   * {@link MemoryBroker.releaseHeld} (or {@link MemoryBroker.flush}) delivers them, so a test can
   * delay and reorder them within the bus's guarantee (one publisher's frames keep their order).
   * @default "microtask"
   */
  delivery?: "sync" | "microtask" | "manual";
  /** @default silentLogger */
  log?: Logger;
}

/** One room's members and world state. */
export interface RoomPresence {
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
  readonly delivery: "sync" | "microtask" | "manual";
  readonly log: Logger;
  readonly status = new StatusCell();

  /** @internal room → subscribed buses */
  readonly subs = new Map<string, Set<MemoryBus>>();
  /** @internal every room's log */
  readonly logs: MemoryLogs;
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
  #nextSessionSweep = 0;

  constructor(opts: MemoryBrokerOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.nodeTtlMs = opts.nodeTtlMs ?? CLUSTER_DEFAULTS.nodeTtlMs;
    this.historySize = Math.max(1, opts.historySize ?? CLUSTER_DEFAULTS.historySize);
    this.historyTtlMs = opts.historyTtlMs ?? CLUSTER_DEFAULTS.historyTtlMs;
    this.delivery = opts.delivery ?? "microtask";
    this.log = opts.log ?? silentLogger;
    this.logs = new MemoryLogs(this.clock, this.historySize, this.historyTtlMs);
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
    if (this.delivery !== "manual" && !this.#scheduled && this.#qBus.length > 0) {
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

  /** Manual delivery: the frames waiting, oldest first (node ids of receiver and publisher). */
  held(): { to: string; from: string; room: string }[] {
    return this.#qBus.map((bus, i) => ({ to: bus.nodeId, from: this.#qFrom[i]!, room: this.#qRoom[i]! }));
  }

  /** Manual delivery: delivers the oldest frame waiting from `from` to `to`; false when none waits. */
  releaseHeld(to: string, from: string): boolean {
    const i = this.#qBus.findIndex((bus, k) => bus.nodeId === to && this.#qFrom[k] === from);
    if (i < 0) return false;
    const [bus] = this.#qBus.splice(i, 1);
    const [room] = this.#qRoom.splice(i, 1);
    const [frame] = this.#qFrame.splice(i, 1);
    this.#qFrom.splice(i, 1);
    bus!.deliver(room!, frame!, from);
    return true;
  }

  /** Manual delivery: drops the frames waiting for `to` (pub/sub loses what a cut-off subscriber missed). */
  discardHeld(to: string): number {
    let n = 0;
    for (let i = this.#qBus.length - 1; i >= 0; i--) {
      if (this.#qBus[i]!.nodeId !== to) continue;
      for (const q of [this.#qBus, this.#qRoom, this.#qFrame, this.#qFrom] as unknown[][]) q.splice(i, 1);
      n++;
    }
    return n;
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
