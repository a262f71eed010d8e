/**
 * Time and timers, injected so the limiter, queues and keepalive can be tested without sleeping.
 * @module
 */

/** An opaque timer handle. */
export type TimerHandle = unknown;

/** The clock and timers the core uses. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

/** The real clock: the runtime's global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as number),
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (h) => globalThis.clearInterval(h as number),
};

/** A manual clock for unit tests: time moves only when `advance` is called. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void; every?: number }>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.#timers.set(++this.#seq, { at: this.#now + Math.max(0, ms), fn });
    return this.#seq;
  }
  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    this.#timers.set(++this.#seq, { at: this.#now + ms, fn, every: Math.max(1, ms) });
    return this.#seq;
  }
  clearInterval(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }
  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void; every?: number }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      const [id, t] = next;
      this.#now = t.at;
      if (t.every) t.at += t.every;
      else this.#timers.delete(id);
      t.fn();
    }
    this.#now = end;
  }
  /** Number of pending timers. */
  get pending(): number {
    return this.#timers.size;
  }
}
