/**
 * The cluster side of the simulation (the counterpart of sim-node.ts, which holds the hub
 * side): a shared MemoryBroker with manual bus delivery and a complete history (the oracle's
 * ground truth), the room log read straight from it, per-node timers that die with the node,
 * store replies the test lets through one round trip at a time, and the node's view of the
 * broker frozen when the node is killed. Issue 14 splits the cluster interfaces by intent:
 * port this file with sim-node.ts.
 * @module
 */
import type { ClusterBackend } from "../../src/cluster/types.ts";
import { MemoryBroker, type MemoryNode } from "../../src/cluster/memory.ts";
import { ClusterUnavailableError } from "../../src/cluster/shared.ts";
import type { Clock, ManualClock, TimerHandle } from "../../src/lib/clock.ts";
import { decodeFrame } from "../../src/delivery/frames.ts";
import { decodeBinary } from "../../src/protocol/proto.ts";
import type { Envelope } from "../../src/protocol/types.ts";

/** A shared broker for a simulated cluster: manual bus delivery, a history long enough to be the ground truth. */
export function simBroker(clock: ManualClock, nodeTtlMs: number): MemoryBroker {
  return new MemoryBroker({ clock, nodeTtlMs, delivery: "manual", historySize: 1_000_000, historyTtlMs: 1e12 });
}

/** One room log entry as the oracle sees it (decoded from the broker's history). */
export interface LogRecord {
  seq: number;
  epoch: number;
  /** The sender's client id ("" for the server). */
  sender: string;
  /** Only this client id receives it ("" for everyone). */
  only: string;
  msg: Envelope;
}

/** The room's log position (epoch 0, seq 0 before its first entry), read without the hub and regardless of outages. */
export function logHead(broker: MemoryBroker, room: string): { epoch: number; seq: number } {
  const s = broker.logs.state(room, false);
  return s ? { epoch: s.epoch, seq: s.seq } : { epoch: 0, seq: 0 };
}

/** Every entry of the room's log, oldest first (the broker of {@link simBroker} keeps them all). */
export function logEntries(broker: MemoryBroker, room: string): LogRecord[] {
  const s = broker.logs.state(room, false);
  if (!s) return [];
  const out: LogRecord[] = [];
  for (let q = s.oldest; q <= s.seq; q++) {
    const frame = s.ring[q % broker.logs.historySize];
    if (!frame) continue;
    const f = decodeFrame(frame);
    out.push({ seq: q, epoch: s.epoch, sender: f.sender, only: f.only, msg: decodeBinary(f.payload) });
  }
  return out;
}

/** A node's timers on the shared clock; killing the node cancels them (and refuses new ones). */
export class NodeClock implements Clock {
  readonly #live = new Set<TimerHandle>();
  #dead = false;
  constructor(readonly base: ManualClock) {}
  now(): number {
    return this.base.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    if (this.#dead) return -1;
    const h = this.base.setTimeout(() => {
      this.#live.delete(h);
      if (!this.#dead) fn();
    }, ms);
    this.#live.add(h);
    return h;
  }
  clearTimeout(h: TimerHandle): void {
    this.#live.delete(h);
    this.base.clearTimeout(h);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    if (this.#dead) return -1;
    const h = this.base.setInterval(() => !this.#dead && fn(), ms);
    this.#live.add(h);
    return h;
  }
  clearInterval(h: TimerHandle): void {
    this.#live.delete(h);
    this.base.clearInterval(h);
  }
  kill(): void {
    this.#dead = true;
    for (const h of this.#live) this.base.clearTimeout(h);
    this.#live.clear();
  }
}

const never = <T>() => new Promise<T>(() => {});

/**
 * Replies of the shared store held back until the test lets them through, so an instance's
 * asynchronous work (opening a room, finding a session) interleaves with bus traffic as it
 * does over a network. Without one, the memory backend answers at once (its log synchronously).
 */
export class ReplyQueue {
  readonly #waiting: (() => void)[] = [];
  /** Holds `v` until the next {@link flush}. */
  hold<T>(v: T): Promise<T> {
    return new Promise((resolve) => this.#waiting.push(() => resolve(v)));
  }
  /** Lets every reply waiting so far through; returns how many. */
  flush(): number {
    const n = this.#waiting.length;
    for (const f of this.#waiting.splice(0, n)) f();
    return n;
  }
}

/**
 * The node's view of the broker, frozen when the node dies: a killed process makes no more
 * calls and sees no more answers (a continuation still waiting for the store never runs).
 * With `replies`, every store and log call answers asynchronously, as Redis does.
 */
export function freezable(node: MemoryNode, replies?: ReplyQueue): { backend: ClusterBackend; freeze(): void } {
  let frozen = false;
  // The memory log, world, claims and control answer synchronously (and throw while the broker
  // is "down"); the member store and node registry return promises.
  const gate = <T extends object>(target: T, sync: boolean): T =>
    new Proxy(target, {
      get(t, key, recv) {
        const v = Reflect.get(t, key, recv);
        if (typeof v !== "function") return v;
        if (key === "onFrame" || key === "publish") return (...args: unknown[]) => (frozen && key === "publish" ? undefined : v.apply(t, args));
        return (...args: unknown[]) => {
          if (frozen) {
            if (sync && !replies) throw new ClusterUnavailableError("This instance is dead");
            return never();
          }
          let r: unknown;
          try {
            r = v.apply(t, args);
          } catch (e) {
            // The memory backend throws while the broker is "down"; Redis rejects. The interfaces
            // allow either (a value or a promise of it): the simulation rejects, as Redis does.
            r = Promise.reject(e);
          }
          if (!(r instanceof Promise)) return replies ? replies.hold(r).then((x) => (frozen ? never() : x)) : r;
          const late = replies ? <X>(x: X) => replies.hold(x) : <X>(x: X) => Promise.resolve(x);
          return r.then(
            (x) => late(x).then((y) => (frozen ? never() : y)),
            (e) => late(e).then((y) => (frozen ? never() : Promise.reject(y))),
          );
        };
      },
    });
  const backend: ClusterBackend = {
    kind: "memory",
    nodeId: node.nodeId,
    bus: gate(node.bus, false),
    log: gate(node.log, true),
    world: gate(node.world, true),
    claims: gate(node.claims, true),
    members: gate(node.members, false),
    nodes: gate(node.nodes, false),
    control: gate(node.control, true),
    status: () => node.status(),
    onStatus: (cb) => node.onStatus(cb),
    close: () => node.close(),
  };
  return {
    backend,
    freeze() {
      frozen = true;
      node.broker.dropPending(node.nodeId); // what was on the wire to or from it is gone
      void node.bus.close(); // its subscriptions die with its Redis connection
    },
  };
}
