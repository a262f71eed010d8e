/**
 * The memory backend's shared state: one {@link MemoryBroker} stands in for Redis — room logs,
 * rooms' world and holds, members, the node registry, due holds and bus delivery — and
 * {@link MemoryNode} is one node's view of it. Every call but bus delivery answers
 * synchronously (the log, world and claims return values, not promises).
 * @module
 */
import { systemClock, type Clock } from "../lib/clock.ts";
import { silentLogger, type Logger } from "../log.ts";
import { MemoryBus } from "./memory-bus.ts";
import { MemoryLogs, MemoryRoomLog } from "./memory-log.ts";
import { MemoryMembers, MemoryNodes } from "./memory-nodes.ts";
import { MemoryClaims, MemoryWorld } from "./memory-world.ts";
import { MemoryControl } from "./control.ts";
import { CLUSTER_DEFAULTS, ClusterUnavailableError, StatusCell } from "./shared.ts";
import type { BackendStatus, ClusterBackend, Holder, MemberInfo, NodeInfo } from "./types.ts";

/** Options of a {@link MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** @default systemClock */
  clock?: Clock;
  /** @default CLUSTER_DEFAULTS.nodeTtlMs */
  nodeTtlMs?: number;
  /** Entries kept per room. @default CLUSTER_DEFAULTS.historySize */
  historySize?: number;
  /** Entries older than this are dropped; a room's log idle this long starts a new epoch. @default CLUSTER_DEFAULTS.historyTtlMs */
  historyTtlMs?: number;
  /**
   * When bus frames reach other nodes: at once, on a microtask, or only when the test calls
   * {@link MemoryBroker.deliver} (frames from one publisher keep their order). @default "microtask"
   */
  delivery?: "sync" | "microtask" | "manual";
  /** @default silentLogger */
  log?: Logger;
}

/** One room's shared state (not its log, which expires on its own). */
export interface RoomState {
  players: Map<string, Uint8Array>;
  entities: Map<string, { owner: string; snapshot: Uint8Array }>;
  holders: Map<string, Holder>;
  /** session id → client id */
  sessions: Map<string, string>;
  /** client id → sessions its holder took it over from, newest first (see `RoomChange.guard.superseded`). */
  superseded: Map<string, Superseded[]>;
  members: Map<string, MemberInfo>;
}

/** A session whose client id a newer connection of the same user took over: its token and the entities the client owned then. */
export interface Superseded {
  token: string;
  entities: string[];
}

/** A bus frame on its way to one node. */
export interface PendingFrame {
  to: MemoryBus;
  room: string;
  frame: Uint8Array;
  from: string;
}

/** The shared state several in-process nodes see, as one Redis would be. */
export class MemoryBroker {
  readonly clock: Clock;
  readonly nodeTtlMs: number;
  readonly delivery: "sync" | "microtask" | "manual";
  readonly log: Logger;
  readonly status = new StatusCell();
  /** @internal every room's log */
  readonly logs: MemoryLogs;
  /** @internal room → its state */
  readonly rooms = new Map<string, RoomState>();
  /** @internal room → subscribed buses */
  readonly subs = new Map<string, Set<MemoryBus>>();
  /** @internal node id → last heartbeat info */
  readonly registry = new Map<string, NodeInfo>();
  /** @internal node id → rooms where it has members or holds */
  readonly nodeRooms = new Map<string, Set<string>>();
  /** @internal due-hold key → when its window closes */
  readonly due = new Map<string, number>();
  /** Bus frames not yet delivered, in publication order. */
  readonly pending: PendingFrame[] = [];
  #scheduled = false;
  readonly #nodes = new Set<MemoryNode>();

  constructor(opts: MemoryBrokerOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.nodeTtlMs = opts.nodeTtlMs ?? CLUSTER_DEFAULTS.nodeTtlMs;
    this.delivery = opts.delivery ?? "microtask";
    this.log = opts.log ?? silentLogger;
    this.logs = new MemoryLogs(this.clock, Math.max(1, opts.historySize ?? CLUSTER_DEFAULTS.historySize), opts.historyTtlMs ?? CLUSTER_DEFAULTS.historyTtlMs);
  }

  /** The backends of one node sharing this broker. */
  node(nodeId: string): MemoryNode {
    const n = new MemoryNode(this, nodeId);
    this.#nodes.add(n);
    return n;
  }

  /** Whether the broker is reachable (default true). */
  get available(): boolean {
    return this.status.get().healthy;
  }

  /**
   * Simulates losing (`false`) or regaining the backend: while unavailable, publishes are
   * dropped and counted, log/world/claim calls throw {@link ClusterUnavailableError}, member and
   * registry calls reject with it; every node's `onStatus` fires.
   */
  setAvailable(available: boolean, reason = "Memory broker marked unavailable"): void {
    const was = this.available;
    this.status.set(available, available ? undefined : reason);
    if (available && !was) for (const n of this.#nodes) n.bus.counters.reconnects++;
  }

  /** @internal Throws while unavailable. */
  check(): void {
    if (!this.available) throw new ClusterUnavailableError(`Cluster backend unavailable: ${this.status.get().reason}`);
  }

  /** @internal A room's state, made on first use. */
  room(id: string): RoomState {
    let r = this.rooms.get(id);
    if (!r) this.rooms.set(id, (r = { players: new Map(), entities: new Map(), holders: new Map(), sessions: new Map(), superseded: new Map(), members: new Map() }));
    return r;
  }

  /** @internal Remembers that `nodeId` has something in `room` (for reaping). */
  touchNodeRoom(nodeId: string, room: string): void {
    let set = this.nodeRooms.get(nodeId);
    if (!set) this.nodeRooms.set(nodeId, (set = new Set()));
    set.add(room);
  }

  /** @internal Queues (or makes) the deliveries of one publication. */
  fanout(from: MemoryBus, room: string, frame: Uint8Array): void {
    const subs = this.subs.get(room);
    if (!subs) return;
    for (const to of subs) {
      if (to === from) continue;
      if (this.delivery === "sync") to.receive(room, frame, from.nodeId);
      else this.pending.push({ to, room, frame, from: from.nodeId });
    }
    if (this.delivery === "microtask" && !this.#scheduled && this.pending.length > 0) {
      this.#scheduled = true;
      queueMicrotask(this.#drain);
    }
  }

  readonly #drain = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  /** Delivers every pending bus frame now, in publication order (also those published meanwhile). */
  flush(): void {
    while (this.pending.length > 0) this.deliver(() => true);
  }

  /**
   * Manual delivery: delivers the first pending frame `pick` accepts and returns it (undefined
   * when none). Frames from one node to another never overtake each other: a frame is eligible
   * only if no earlier frame with the same sender and receiver is still pending.
   */
  deliver(pick: (f: PendingFrame) => boolean): PendingFrame | undefined {
    const blocked = new Set<string>();
    for (let i = 0; i < this.pending.length; i++) {
      const f = this.pending[i]!;
      const lane = `${f.from}\n${f.to.nodeId}`;
      if (blocked.has(lane)) continue;
      blocked.add(lane);
      if (!pick(f)) continue;
      this.pending.splice(i, 1);
      f.to.receive(f.room, f.frame, f.from);
      return f;
    }
    return undefined;
  }

  /** Drops pending frames to or from `nodeId` (an instance that died). */
  dropPending(nodeId: string): void {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const f = this.pending[i]!;
      if (f.from === nodeId || f.to.nodeId === nodeId) this.pending.splice(i, 1);
    }
  }
}

/** One node's view of a {@link MemoryBroker}. */
export class MemoryNode implements ClusterBackend {
  readonly kind = "memory" as const;
  readonly bus: MemoryBus;
  readonly log: MemoryRoomLog;
  readonly world: MemoryWorld;
  readonly claims: MemoryClaims;
  readonly members: MemoryMembers;
  readonly nodes: MemoryNodes;
  readonly control: MemoryControl;

  constructor(readonly broker: MemoryBroker, readonly nodeId: string) {
    this.bus = new MemoryBus(broker, nodeId);
    this.log = new MemoryRoomLog(broker, this.bus);
    this.world = new MemoryWorld(broker);
    this.claims = new MemoryClaims(broker);
    this.members = new MemoryMembers(broker, nodeId);
    this.nodes = new MemoryNodes(broker, nodeId);
    this.control = new MemoryControl(broker);
  }

  status(): BackendStatus {
    return this.broker.status.get();
  }

  onStatus(cb: (s: BackendStatus) => void): void {
    this.broker.status.on((s) => {
      if (!this.bus.closed) cb(s);
    });
  }

  async close(): Promise<void> {
    await this.bus.close();
    this.nodes.close();
  }
}
