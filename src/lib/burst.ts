/**
 * Notices the end of a connect burst, so the adapter's collector can give the burst's garbage
 * back to the system at once (Bun: a full collection, then JavaScriptCore's footprint shrink;
 * Node: V8's memory-reducing collection). The core's server counts its opens and ticks it
 * (`ServerOptions.collectGarbage`, COLLECT_AFTER_BURST, `graphwiz_ws_burst_collections_total`).
 *
 * Why: a burst of upgrades (token checks, hellos, presence to every peer) leaves its garbage in
 * the heap. JavaScriptCore keeps that capacity for many seconds; V8 leaves the survivors it
 * promoted scattered over old-space pages it never compacts by itself, and its young generation
 * at full size — on Node 10,000 idle connections held ~11 KiB each 12 s after their burst,
 * ~6.3 KiB after one memory-reducing collection (bench/ANALYSIS.md, "Idle memory per connection").
 * One pause per burst (per 10,000 sockets ~0.04 s on Bun, ~0.15 s on Node), never during one; steady arrivals never make
 * a burst, since any quiet {@link BURST_QUIET_MS} starts the count again.
 * @module
 */
import type { Clock } from "./clock.ts";

/** Sockets opened with no quiet gap between them that make a burst worth a collection. */
export const BURST_OPENS = 500;
/** A burst is over after this long without a socket opening; also how often {@link BurstWatch.tick} runs. */
export const BURST_QUIET_MS = 500;

/** Counts opened sockets; `tick()` every {@link BURST_QUIET_MS} calls `collect` once after a burst. */
export class BurstWatch {
  #opened = 0;
  #seen = 0;

  /**
   * @param collect what to run once a burst is over
   * @param minOpens sockets that make a burst (default {@link BURST_OPENS})
   */
  constructor(readonly collect: () => void, readonly minOpens = BURST_OPENS) {}

  /** A socket opened. */
  open(): void {
    this.#opened++;
  }

  /** One check: still opening → wait; quiet after at least `minOpens` → collect; quiet → start over. */
  tick(): void {
    if (this.#opened !== this.#seen) return void (this.#seen = this.#opened);
    const burst = this.#opened >= this.minOpens;
    this.#opened = this.#seen = 0;
    if (burst) this.collect();
  }
}

/** What a server keeps of {@link collectAfterBursts}: count an open, stop the ticks. */
export interface BurstCollector {
  open(): void;
  stop(): void;
}

/**
 * A {@link BurstWatch} ticking every {@link BURST_QUIET_MS} on `clock`: after each burst it runs
 * `collect` (false: the runtime could not) and then `counted` when it did.
 */
export function collectAfterBursts(clock: Clock, collect: () => boolean, counted: () => void): BurstCollector {
  const watch = new BurstWatch(() => void (collect() && counted()));
  const timer = clock.setInterval(() => watch.tick(), BURST_QUIET_MS);
  return { open: () => watch.open(), stop: () => clock.clearInterval(timer) };
}
