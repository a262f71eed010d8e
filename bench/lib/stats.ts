/** Latency histogram and summary statistics. @module */

/**
 * A log-linear latency histogram in microseconds (HDR-style: 128 sub-buckets per power of two,
 * under 1 % error). Recording is O(1) with no allocation.
 */
export class Histogram {
  readonly counts = new Uint32Array(256 + 25 * 128);
  total = 0;
  max = 0;

  record(us: number): void {
    let v = us < 0 ? 0 : Math.round(us);
    if (v > 0x7fff_ffff) v = 0x7fff_ffff;
    if (v > this.max) this.max = v;
    this.total++;
    if (v < 256) {
      this.counts[v]++;
      return;
    }
    const shift = 31 - Math.clz32(v) - 7;
    this.counts[256 + (shift - 1) * 128 + ((v >>> shift) - 128)]++;
  }

  static valueAt(index: number): number {
    if (index < 256) return index;
    const shift = ((index - 256) >> 7) + 1;
    const mant = ((index - 256) & 127) + 128;
    return mant * 2 ** shift + 2 ** (shift - 1);
  }

  /** The `q`-quantile (0…1) in microseconds; NaN when empty. */
  quantile(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(Histogram.valueAt(i), this.max);
    }
    return this.max;
  }
}

/** Median of the finite values; NaN when none. */
export function median(xs: number[]): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Min and max of the finite values. */
export function range(xs: number[]): [number, number] {
  const v = xs.filter(Number.isFinite);
  return v.length ? [Math.min(...v), Math.max(...v)] : [Number.NaN, Number.NaN];
}

/** Rounds to `digits` significant digits (keeps JSON and tables short). */
export function sig(x: number, digits = 4): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const d = Math.ceil(Math.log10(Math.abs(x)));
  const f = 10 ** (digits - d);
  return Math.round(x * f) / f;
}
