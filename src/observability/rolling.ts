/**
 * Bounded views over time for the dashboard: latency percentiles per time slot
 * ({@link RollingLatency}) and per-second rates derived from running totals ({@link RateMeter}).
 * Both take `now` (epoch ms) from the caller, so tests drive them with plain numbers.
 * @module
 */
import { LatencyHistogram, type HistogramOptions } from "./histogram.ts";

/** One completed time slot. Percentiles are `null` when nothing was recorded in it. */
export interface LatencyPoint {
  /** Start of the slot (epoch ms). */
  t: number;
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** Size of a {@link RollingLatency}. */
export interface RollingOptions {
  /** Length of one slot (ms). @default 1000 */
  slotMs?: number;
  /** Completed slots kept: the window is `slots × slotMs`. @default 300 (5 minutes of 1 s slots) */
  slots?: number;
  /** Layout of the live slot's histogram. @default the {@link LatencyHistogram} defaults */
  histogram?: HistogramOptions;
}

/**
 * p50/p99 per time slot for the last few minutes, in bounded memory: one live histogram for the
 * current slot and a ring of small summaries (five float64 per slot) for completed ones. When a
 * slot ends its live histogram is summarised once and reset, so `record` stays O(1) and
 * allocation-free; rolling over costs O(buckets) once per slot. Slots with no data are kept as
 * gaps (`count: 0`, percentiles `null`) so the chart's time axis stays regular.
 *
 * Time going backwards (a clock step) is recorded into the current slot.
 */
export class RollingLatency {
  readonly slotMs: number;
  readonly slots: number;
  readonly #live: LatencyHistogram;
  readonly #t: Float64Array;
  readonly #count: Float64Array;
  readonly #p50: Float64Array;
  readonly #p99: Float64Array;
  readonly #max: Float64Array;
  /** Next write position in the ring. */
  #head = 0;
  #size = 0;
  /** Index (`floor(now / slotMs)`) of the live slot; -1 before the first call. */
  #cur = -1;
  /** First instant of the next slot: `record` rolls over when `now` reaches it. */
  #nextAt = -Infinity;

  constructor(opts: RollingOptions = {}) {
    this.slotMs = opts.slotMs ?? 1000;
    this.slots = opts.slots ?? 300;
    if (!(this.slotMs > 0) || !Number.isInteger(this.slots) || this.slots < 1) throw new RangeError("rolling: need slotMs > 0 and slots ≥ 1");
    this.#live = new LatencyHistogram(opts.histogram);
    this.#t = new Float64Array(this.slots);
    this.#count = new Float64Array(this.slots);
    this.#p50 = new Float64Array(this.slots);
    this.#p99 = new Float64Array(this.slots);
    this.#max = new Float64Array(this.slots);
  }

  /** Adds one observation (ms) made at `now` (epoch ms). */
  record(ms: number, now: number): void {
    if (now >= this.#nextAt) this.#advance(now);
    this.#live.record(ms);
  }

  /**
   * The completed slots inside the window ending at `now`, oldest first (at most `slots`).
   * The slot `now` falls in is still filling and is not included.
   */
  history(now: number): LatencyPoint[] {
    if (now >= this.#nextAt) this.#advance(now);
    // The ring holds consecutive slots ending just before the live one (gaps are filled), so
    // whatever it holds is inside the window: older slots were overwritten.
    const out: LatencyPoint[] = [];
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head - this.#size + k + this.slots) % this.slots;
      const c = this.#count[i]!;
      out.push({ t: this.#t[i]!, count: c, p50: c ? this.#p50[i]! : null, p99: c ? this.#p99[i]! : null, max: c ? this.#max[i]! : null });
    }
    return out;
  }

  /** Moves to the slot of `now`: summarises the live slot, then fills skipped slots with gaps. */
  #advance(now: number): void {
    const idx = Math.floor(now / this.slotMs);
    if (idx <= this.#cur) return;
    if (this.#cur >= 0) {
      const h = this.#live;
      this.#push(this.#cur, h.count, h.percentile(50), h.percentile(99), h.max);
      h.reset();
      // At most one ring's worth of gaps: older ones would be overwritten anyway.
      const gaps = Math.min(idx - this.#cur - 1, this.slots);
      for (let s = idx - gaps; s < idx; s++) this.#push(s, 0, 0, 0, 0);
    }
    this.#cur = idx;
    this.#nextAt = (idx + 1) * this.slotMs;
  }

  #push(slot: number, count: number, p50: number, p99: number, max: number): void {
    const i = this.#head;
    this.#t[i] = slot * this.slotMs;
    this.#count[i] = count;
    this.#p50[i] = p50;
    this.#p99[i] = p99;
    this.#max[i] = max;
    this.#head = (i + 1) % this.slots;
    if (this.#size < this.slots) this.#size++;
  }

  /** Bytes held by the ring and the live histogram: constant for the object's life. */
  get byteLength(): number {
    return this.#live.byteLength + 5 * this.#t.byteLength;
  }
}

/** Size of a {@link RateMeter}. */
export interface RateOptions {
  /** Rates are measured over roughly this much history (ms). @default 5000 */
  windowMs?: number;
  /** Samples closer together than this (ms) replace nothing; the newer one is skipped. @default 250 */
  minIntervalMs?: number;
}

/**
 * Per-second rates of running totals (messages in/out, bytes…), measured at read time from
 * samples of the totals, so the hot path pays nothing. Call {@link rates} when a snapshot is
 * built (e.g. once a second by the dashboard); the first call has no history and returns zeros.
 * Memory is a fixed ring of `windowMs / minIntervalMs + 2` samples.
 */
export class RateMeter {
  readonly width: number;
  readonly #windowMs: number;
  readonly #minGap: number;
  readonly #cap: number;
  readonly #t: Float64Array;
  /** `cap × width` totals, row-major. */
  readonly #v: Float64Array;
  #head = 0;
  #size = 0;

  /** @param width how many totals each sample holds. */
  constructor(width: number, opts: RateOptions = {}) {
    this.width = width;
    this.#windowMs = opts.windowMs ?? 5000;
    this.#minGap = opts.minIntervalMs ?? 250;
    this.#cap = Math.ceil(this.#windowMs / Math.max(1, this.#minGap)) + 2;
    this.#t = new Float64Array(this.#cap);
    this.#v = new Float64Array(this.#cap * width);
  }

  /**
   * Records `totals` at `now` and returns each total's rate per second against the oldest sample
   * within the window (or, when every sample is older, the newest of them). A total that went
   * down (a reset) gives rate 0 rather than a negative one.
   */
  rates(now: number, totals: readonly number[]): number[] {
    const out = new Array<number>(this.width).fill(0);
    let ref = -1;
    for (let k = 0; k < this.#size; k++) {
      const i = (this.#head - this.#size + k + this.#cap) % this.#cap;
      const t = this.#t[i]!;
      if (t >= now) break;
      ref = i;
      if (t >= now - this.#windowMs) break;
    }
    // `ref` is the oldest sample inside the window, else the newest one before it.
    if (ref >= 0) {
      const dt = (now - this.#t[ref]!) / 1000;
      for (let w = 0; w < this.width; w++) out[w] = Math.max(0, ((totals[w] ?? 0) - this.#v[ref * this.width + w]!) / dt);
    }
    const last = (this.#head - 1 + this.#cap) % this.#cap;
    if (this.#size === 0 || now - this.#t[last]! >= this.#minGap) {
      const i = this.#head;
      this.#t[i] = now;
      for (let w = 0; w < this.width; w++) this.#v[i * this.width + w] = totals[w] ?? 0;
      this.#head = (i + 1) % this.#cap;
      if (this.#size < this.#cap) this.#size++;
    }
    return out;
  }
}
