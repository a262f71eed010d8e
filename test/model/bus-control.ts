/**
 * The simulated bus as the model controls it, within the guarantees of a Redis bus: frames to
 * an instance held for a while, a stall of the whole bus, frames from different publishers
 * released in a shuffled order (one publisher's frames always keep theirs), and an outage of
 * the shared backend (the broker unavailable; frames in flight optionally lost).
 * @module
 */
import type { MemoryBroker } from "../../src/cluster/memory.ts";
import type { Clock } from "../../src/core/clock.ts";

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
  outage(ms: number, lose: boolean, nodeIds: string[]): void {
    this.broker.setAvailable(false, "Simulated outage");
    this.#outageUntil = Math.max(this.#outageUntil, this.clock.now() + ms);
    if (lose) for (const id of nodeIds) this.broker.discardHeld(id);
  }

  /** Ends an outage whose time has come. */
  due(): void {
    if (this.#outageUntil && this.clock.now() >= this.#outageUntil) {
      this.#outageUntil = 0;
      this.broker.setAvailable(true);
    }
  }

  /** Everything healthy from now on. */
  heal(): void {
    this.#stallUntil = this.#shuffleUntil = 0;
    this.#holdUntil.clear();
    if (this.#outageUntil) this.#outageUntil = this.clock.now();
    this.due();
  }

  /** Delivers the frames that may go now; returns whether any did. */
  release(): boolean {
    const now = this.clock.now();
    if (now < this.#outageUntil || now < this.#stallUntil) return false;
    let moved = false;
    for (let guard = 0; guard < 10_000; guard++) {
      const held = this.broker.held().filter((h) => now >= (this.#holdUntil.get(h.to) ?? 0));
      if (held.length === 0) break;
      const pick = now < this.#shuffleUntil ? held[Math.floor(this.rand() * held.length)]! : held[0]!;
      this.broker.releaseHeld(pick.to, pick.from);
      moved = true;
    }
    return moved;
  }
}
