/**
 * A fixed-size latency histogram: O(1) memory, O(1) `record` with no allocation.
 *
 * Two sets of buckets are kept side by side:
 * - **fine buckets**, log-spaced (`bucketsPerOctave` per doubling, 0.05 ms … 60 s by default),
 *   for percentiles. A percentile is interpolated inside the bucket that holds its rank, so its
 *   relative error is at most one bucket width, `2^(1/bucketsPerOctave) − 1`: **≤ 9.05 %** with
 *   the default 8 per octave (usually a few %). Values below `minMs` share one bucket (absolute
 *   error < `minMs`); values at or above `maxMs` share one bucket capped by the observed max.
 * - **exposition buckets**, the small fixed `le` list Prometheus shows ({@link DEFAULT_LE_MS}),
 *   counted exactly (`value ≤ le`), so `_bucket` series never depend on interpolation.
 *
 * All values are **milliseconds**; the Prometheus renderer converts to seconds.
 * @module
 */

/**
 * The `le` boundaries (ms) exposed to Prometheus: 0.05 ms … 5 s, plus the implicit `+Inf`.
 * Fixed and small on purpose: every boundary is one time series per histogram.
 */
export const DEFAULT_LE_MS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

/** Layout of a {@link LatencyHistogram}. */
export interface HistogramOptions {
  /** Lower edge of the first fine bucket; smaller values share one underflow bucket. @default 0.05 */
  minMs?: number;
  /** Values at or above this share one overflow bucket. @default 60000 */
  maxMs?: number;
  /** Fine buckets per doubling: more is more precise and more memory. @default 8 */
  bucketsPerOctave?: number;
  /** Ascending `le` boundaries (ms) for {@link LatencyHistogram.buckets}. @default DEFAULT_LE_MS */
  leMs?: readonly number[];
}

/** One cumulative bucket: how many values were `≤ le` (ms; the last one is `Infinity`). */
export interface CumulativeBucket {
  le: number;
  count: number;
}

/** A point summary of a histogram (ms). Percentiles are `NaN` while empty. */
export interface LatencySummary {
  count: number;
  sum: number;
  avg: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

/** Fine bucket edges shared by every histogram of the same layout (computed once). */
interface Layout {
  min: number;
  perOctave: number;
  /** Number of log buckets; the counts array has two more (underflow, overflow). */
  n: number;
  /** `edges[k] = min · r^k`, k = 0…n: log bucket i (1…n) is `[edges[i-1], edges[i])`. */
  edges: Float64Array;
  le: Float64Array;
}

const layouts = new Map<string, Layout>();
function layoutOf(minMs: number, maxMs: number, perOctave: number, leMs: readonly number[]): Layout {
  const key = `${minMs}/${maxMs}/${perOctave}/${leMs.join(",")}`;
  let l = layouts.get(key);
  if (l) return l;
  if (!(minMs > 0) || !(maxMs > minMs)) throw new RangeError("histogram: need 0 < minMs < maxMs");
  if (!Number.isInteger(perOctave) || perOctave < 1 || perOctave > 64) throw new RangeError("histogram: bucketsPerOctave must be 1-64");
  for (let i = 0; i < leMs.length; i++) {
    if (!(leMs[i]! > 0) || !Number.isFinite(leMs[i]!) || (i > 0 && leMs[i]! <= leMs[i - 1]!)) {
      throw new RangeError("histogram: leMs must be finite, positive and strictly ascending");
    }
  }
  const n = Math.ceil(Math.log2(maxMs / minMs) * perOctave);
  const edges = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) edges[k] = minMs * 2 ** (k / perOctave);
  l = { min: minMs, perOctave, n, edges, le: Float64Array.from(leMs) };
  layouts.set(key, l);
  return l;
}

/**
 * Latency distribution in milliseconds. Memory is fixed at construction (two typed arrays);
 * {@link record} is a few arithmetic operations and never allocates, so it can sit on the
 * broadcast path. Counts are float64 (exact up to 2^53), so they never wrap.
 */
export class LatencyHistogram {
  readonly #l: Layout;
  /** Fine counts: [underflow, log buckets 1…n, overflow]. */
  readonly #fine: Float64Array;
  /** Non-cumulative exposition counts: one per `le`, then `+Inf`. */
  readonly #le: Float64Array;
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  constructor(opts: HistogramOptions = {}) {
    this.#l = layoutOf(opts.minMs ?? 0.05, opts.maxMs ?? 60_000, opts.bucketsPerOctave ?? 8, opts.leMs ?? DEFAULT_LE_MS);
    this.#fine = new Float64Array(this.#l.n + 2);
    this.#le = new Float64Array(this.#l.le.length + 1);
  }

  /** Adds one observation (ms). Negative values count as 0; `NaN` is ignored. */
  record(ms: number): void {
    if (!(ms >= 0)) {
      if (ms !== ms) return;
      ms = 0;
    }
    const l = this.#l;
    let i: number;
    if (ms < l.min) i = 0;
    else {
      i = 1 + Math.floor(Math.log2(ms / l.min) * l.perOctave);
      if (i > l.n) i = l.n + 1;
    }
    this.#fine[i]!++;
    // Latencies cluster at the low end, so this short scan usually stops after a few steps.
    const le = l.le;
    let j = 0;
    while (j < le.length && ms > le[j]!) j++;
    this.#le[j]!++;
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
    if (ms < this.#min) this.#min = ms;
  }

  /** Number of observations. */
  get count(): number {
    return this.#count;
  }
  /** Sum of observations (ms). */
  get sum(): number {
    return this.#sum;
  }
  /** Largest observation (ms); 0 while empty. */
  get max(): number {
    return this.#max;
  }
  /** Smallest observation (ms); 0 while empty. */
  get min(): number {
    return this.#count ? this.#min : 0;
  }
  /** Mean (ms); 0 while empty. */
  avg(): number {
    return this.#count ? this.#sum / this.#count : 0;
  }

  /**
   * The `p`-th percentile (p in 0…100, e.g. 99.9), by nearest rank, interpolated geometrically
   * inside its bucket and clamped to the observed min/max. `NaN` while empty.
   * Relative error ≤ `2^(1/bucketsPerOctave) − 1` (9.05 % by default) above `minMs`.
   */
  percentile(p: number): number {
    const total = this.#count;
    if (total === 0) return NaN;
    if (p <= 0) return this.#min;
    if (p >= 100) return this.#max;
    const rank = Math.max(1, Math.ceil((p / 100) * total));
    // The extreme ranks are known exactly.
    if (rank === 1) return this.#min;
    if (rank >= total) return this.#max;
    const l = this.#l;
    const fine = this.#fine;
    let cum = 0;
    for (let i = 0; i < fine.length; i++) {
      const c = fine[i]!;
      if (c === 0 || cum + c < rank) {
        cum += c;
        continue;
      }
      // Place the rank-th value at the middle of its share of the bucket.
      const f = (rank - cum - 0.5) / c;
      const lo = Math.max(i === 0 ? 0 : l.edges[i - 1]!, this.#min);
      const hi = Math.min(i > l.n ? this.#max : i === 0 ? l.min : l.edges[i]!, this.#max);
      if (hi <= lo) return lo;
      const est = lo > 0 ? lo * (hi / lo) ** f : lo + (hi - lo) * f;
      return Math.min(this.#max, Math.max(this.#min, est));
    }
    return this.#max;
  }

  /** count, sum, avg, max and the usual percentiles in one object (ms). */
  summary(): LatencySummary {
    return {
      count: this.#count,
      sum: this.#sum,
      avg: this.avg(),
      max: this.#max,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
    };
  }

  /**
   * Cumulative counts at the fixed `le` boundaries (ms), ending with `le: Infinity` whose count
   * equals {@link count}: the shape of Prometheus `_bucket` series. Exact, not interpolated.
   */
  buckets(): CumulativeBucket[] {
    const le = this.#l.le;
    const out: CumulativeBucket[] = [];
    let cum = 0;
    for (let j = 0; j <= le.length; j++) {
      cum += this.#le[j]!;
      out.push({ le: j < le.length ? le[j]! : Infinity, count: cum });
    }
    return out;
  }

  /** Adds every observation of `other` (same layout) to this histogram. */
  merge(other: LatencyHistogram): void {
    if (other.#l !== this.#l) throw new Error("histogram: cannot merge different layouts");
    if (other.#count === 0) return;
    for (let i = 0; i < this.#fine.length; i++) this.#fine[i]! += other.#fine[i]!;
    for (let j = 0; j < this.#le.length; j++) this.#le[j]! += other.#le[j]!;
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#max > this.#max) this.#max = other.#max;
    if (other.#min < this.#min) this.#min = other.#min;
  }

  /** Forgets every observation (keeps the arrays). */
  reset(): void {
    this.#fine.fill(0);
    this.#le.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = 0;
  }

  /** Bytes held by the count arrays: constant for the histogram's life (for tests and docs). */
  get byteLength(): number {
    return this.#fine.byteLength + this.#le.byteLength;
  }
}
