/**
 * The simulated bus as the model controls it, within the guarantees of a Redis bus: frames to
 * an instance held for a while, a stall of the whole bus, frames from different publishers
 * released in a shuffled order (one publisher's frames always keep theirs), and an outage of
 * the shared backend (the broker unavailable; frames in flight optionally lost).
 * @module
 */
import type { MemoryBroker, PendingFrame } from "../../src/cluster/memory.ts";
import type { Clock } from "../../src/lib/clock.ts";

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Holds, stalls, shuffles and outages of one manual-delivery broker. */
export class BusControl {
  readonly #holdUntil = new Map<string, number>();
  #stallUntil = 0;
  #shuffleUntil = 0;
  #outageUntil = 0;
  /** Every outage so far (the last one's `to` unset while it goes on). */
  readonly #outages: { from: number; to?: number }[] = [];

  constructor(readonly broker: MemoryBroker, readonly clock: Clock, readonly rand: () => number) {}

  /** Frames to node `nodeId` (undefined: every node — a stall) wait `ms`. */
  hold(nodeId: string | undefined, ms: number): void {
    const until = this.clock.now() + ms;
    if (nodeId === undefined) this.#stallUntil = Math.max(this.#stallUntil, until);
    else this.#holdUntil.set(nodeId, Math.max(this.#holdUntil.get(nodeId) ?? 0, until));
  }

  shuffle(ms: number): void {
    this.#shuffleUntil = Math.max(this.#shuffleUntil, this.clock.now() + ms);
  }

  /** The backend is unreachable for `ms`; with `lose`, frames in flight to `nodeIds` are lost. */
  /** When the current (or last) outage ends. */
  get outageUntil(): number {
    return this.#outageUntil;
  }

  outage(ms: number, lose: boolean, nodeIds: string[]): void {
    this.broker.setAvailable(false, "Simulated outage");
    if (!this.#outageUntil) this.#outages.push({ from: this.clock.now() });
    this.#outageUntil = Math.max(this.#outageUntil, this.clock.now() + ms);
    if (lose) for (const id of nodeIds) this.broker.dropPending(id);
  }

  /** Ends an outage whose time has come. */
  due(): void {
    if (this.#outageUntil && this.clock.now() >= this.#outageUntil) {
      this.#outageUntil = 0;
      this.#outages.at(-1)!.to = this.clock.now();
      this.broker.setAvailable(true);
    }
  }

  /** Time since `from` in which the backend was reachable (resume windows count only that time). */
  reachableSince(from: number): number {
    const now = this.clock.now();
    let down = 0;
    for (const o of this.#outages) down += Math.max(0, Math.min(o.to ?? now, now) - Math.max(o.from, from));
    return now - from - down;
  }

  /** Everything healthy from now on. */
  heal(): void {
    this.#stallUntil = this.#shuffleUntil = 0;
    this.#holdUntil.clear();
    if (this.#outageUntil) this.#outageUntil = this.clock.now();
    this.due();
  }

  /** Delivers the frames that may go now (the broker keeps each sender→receiver lane in order); returns whether any did. */
  release(): boolean {
    const now = this.clock.now();
    if (now < this.#outageUntil || now < this.#stallUntil) return false;
    const open = (f: PendingFrame) => now >= (this.#holdUntil.get(f.to.nodeId) ?? 0);
    let moved = false;
    for (let guard = 0; guard < 10_000; guard++) {
      // Shuffling: pick one of the deliverable frames at random (a lane's head only), else the oldest.
      let pick = open;
      if (now < this.#shuffleUntil) {
        const heads = new Set<PendingFrame>();
        this.broker.deliver((f) => (open(f) && heads.add(f), false));
        const chosen = [...heads][Math.floor(this.rand() * heads.size)];
        pick = (f) => f === chosen;
      }
      if (!this.broker.deliver(pick)) break;
      moved = true;
    }
    return moved;
  }
}
