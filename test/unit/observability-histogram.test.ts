/** Latency histogram, rolling latency window and rate meter (src/observability). */
import { describe, expect, test } from "bun:test";
import { DEFAULT_LE_MS, LatencyHistogram } from "../../src/observability/histogram.ts";
import { RateMeter, RollingLatency } from "../../src/observability/rolling.ts";

/** The documented bound: one fine bucket's width. */
const BOUND_8 = 2 ** (1 / 8) - 1;

/** Exact nearest-rank percentile of sorted values. */
const exact = (sorted: number[], p: number) => sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectPercentilesNear(h: LatencyHistogram, values: number[], bound: number) {
  const sorted = [...values].sort((a, b) => a - b);
  for (const p of [50, 90, 99, 99.9]) {
    const want = exact(sorted, p);
    const got = h.percentile(p);
    expect({ p, err: Math.abs(got - want) / want <= bound }).toEqual({ p, err: true });
  }
}

describe("LatencyHistogram", () => {
  test("uniform 0.1…10000 ms: percentiles within one bucket width (9.05 %)", () => {
    const h = new LatencyHistogram();
    const values: number[] = [];
    for (let k = 1; k <= 100_000; k++) values.push(k * 0.1);
    for (const v of values) h.record(v);
    expectPercentilesNear(h, values, BOUND_8);
    // Interpolation does much better than the worst case on smooth data.
    expect(Math.abs(h.percentile(50) - 5000) / 5000).toBeLessThan(0.01);
    expect(Math.abs(h.percentile(99) - 9900) / 9900).toBeLessThan(0.01);
  });

  test("log-normal-ish latencies (seeded): within the bound; finer buckets are finer", () => {
    const r = rng(42);
    const values = Array.from({ length: 50_000 }, () => Math.exp(Math.log(0.8) + 1.2 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())));
    const coarse = new LatencyHistogram();
    const fine = new LatencyHistogram({ bucketsPerOctave: 32 });
    for (const v of values) {
      coarse.record(v);
      fine.record(v);
    }
    expectPercentilesNear(coarse, values, BOUND_8);
    expectPercentilesNear(fine, values, 2 ** (1 / 32) - 1);
  });

  test("a constant distribution is reported exactly (clamped to min/max)", () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) h.record(3.7);
    for (const p of [0, 50, 90, 99, 99.9, 100]) expect(h.percentile(p)).toBe(3.7);
    expect(h.avg()).toBeCloseTo(3.7, 10);
  });

  test("bimodal: p50/p90 in the low mode, p99 in the high mode", () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 900; i++) h.record(1);
    for (let i = 0; i < 100; i++) h.record(100);
    expect(h.percentile(50)).toBeGreaterThanOrEqual(1);
    expect(h.percentile(50)).toBeLessThanOrEqual(1 * (1 + BOUND_8));
    expect(h.percentile(90)).toBeLessThanOrEqual(1 * (1 + BOUND_8));
    expect(h.percentile(99)).toBeLessThanOrEqual(100);
    expect(h.percentile(99)).toBeGreaterThanOrEqual(100 / (1 + BOUND_8));
    expect(h.summary()).toMatchObject({ count: 1000, sum: 900 + 10_000, max: 100, avg: 10.9 });
  });

  test("count, sum, max, min, avg; NaN ignored, negatives count as 0; empty is NaN/0", () => {
    const h = new LatencyHistogram();
    expect([h.count, h.sum, h.max, h.min, h.avg()]).toEqual([0, 0, 0, 0, 0]);
    expect(h.percentile(50)).toBeNaN();
    h.record(2);
    h.record(4);
    h.record(NaN);
    h.record(-5);
    expect([h.count, h.sum, h.max, h.min, h.avg()]).toEqual([3, 6, 4, 0, 2]);
  });

  test("values beyond the range: underflow and overflow buckets stay bounded by min/max", () => {
    const h = new LatencyHistogram();
    h.record(0.001);
    h.record(0.002);
    expect(h.percentile(50)).toBeGreaterThanOrEqual(0.001);
    expect(h.percentile(50)).toBeLessThanOrEqual(0.002);
    const big = new LatencyHistogram();
    big.record(90_000);
    big.record(120_000);
    expect(big.percentile(99)).toBeLessThanOrEqual(120_000);
    expect(big.percentile(99)).toBeGreaterThanOrEqual(90_000);
  });

  test("exposition buckets: exact, cumulative, le inclusive, +Inf equals count", () => {
    const h = new LatencyHistogram();
    for (const v of [0.05, 0.0500001, 0.25, 0.3, 1, 5000, 5000.1, 1e9]) h.record(v);
    const b = h.buckets();
    expect(b.map((x) => x.le)).toEqual([...DEFAULT_LE_MS, Infinity]);
    const at = (le: number) => b.find((x) => x.le === le)!.count;
    expect(at(0.05)).toBe(1); // 0.05 ≤ 0.05
    expect(at(0.1)).toBe(2);
    expect(at(0.25)).toBe(3);
    expect(at(0.5)).toBe(4);
    expect(at(1)).toBe(5);
    expect(at(2500)).toBe(5);
    expect(at(5000)).toBe(6);
    expect(at(Infinity)).toBe(8);
    for (let i = 1; i < b.length; i++) expect(b[i]!.count).toBeGreaterThanOrEqual(b[i - 1]!.count);
  });

  test("1e6 records: fixed arrays, no retained growth", () => {
    const h = new LatencyHistogram();
    const bytes = h.byteLength;
    const nb = h.buckets().length;
    const r = rng(7);
    Bun.gc(true);
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000; i++) h.record(r() * 200);
    Bun.gc(true);
    const grown = process.memoryUsage().heapUsed - before;
    expect(h.count).toBe(1_000_000);
    expect(h.byteLength).toBe(bytes);
    expect(h.buckets().length).toBe(nb);
    expect(bytes).toBeLessThan(4096);
    expect(grown).toBeLessThan(2 * 1024 * 1024);
  });

  test("merge adds observations; reset forgets them; layouts must match", () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(1);
    b.record(10);
    b.record(0.01);
    a.merge(b);
    expect([a.count, a.sum, a.max, a.min]).toEqual([3, 11.01, 10, 0.01]);
    expect(a.buckets().at(-1)!.count).toBe(3);
    a.reset();
    expect([a.count, a.sum, a.max, a.buckets().at(-1)!.count]).toEqual([0, 0, 0, 0]);
    expect(() => a.merge(new LatencyHistogram({ bucketsPerOctave: 4 }))).toThrow();
  });

  test("bad layouts are refused", () => {
    expect(() => new LatencyHistogram({ minMs: 0 })).toThrow(RangeError);
    expect(() => new LatencyHistogram({ minMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => new LatencyHistogram({ leMs: [1, 1] })).toThrow(RangeError);
    expect(() => new LatencyHistogram({ bucketsPerOctave: 0.5 })).toThrow(RangeError);
  });
});

describe("RollingLatency", () => {
  const T0 = 1_700_000_000_000; // a whole second

  test("one point per completed slot with its p50/p99; the live slot is not reported", () => {
    const r = new RollingLatency({ slotMs: 1000, slots: 10 });
    for (let i = 1; i <= 100; i++) r.record(i, T0 + i);
    expect(r.history(T0 + 999)).toEqual([]);
    const [pt, ...rest] = r.history(T0 + 1000);
    expect(rest).toEqual([]);
    expect(pt!.t).toBe(T0);
    expect(pt!.count).toBe(100);
    expect(Math.abs(pt!.p50! - 50) / 50).toBeLessThanOrEqual(BOUND_8);
    expect(Math.abs(pt!.p99! - 99) / 99).toBeLessThanOrEqual(BOUND_8);
    expect(pt!.max).toBe(100);
  });

  test("quiet slots are gaps (count 0, null percentiles)", () => {
    const r = new RollingLatency({ slotMs: 1000, slots: 10 });
    r.record(5, T0);
    r.record(7, T0 + 3000);
    const h = r.history(T0 + 4000);
    expect(h.map((p) => [p.t - T0, p.count, p.p50 === null])).toEqual([
      [0, 1, false],
      [1000, 0, true],
      [2000, 0, true],
      [3000, 1, false],
    ]);
  });

  test("old slots drop out of the window (injected clock, no sleeping)", () => {
    const r = new RollingLatency({ slotMs: 1000, slots: 5 });
    for (let s = 0; s < 10; s++) r.record(s + 1, T0 + s * 1000 + 10);
    const h = r.history(T0 + 10_000);
    expect(h.map((p) => (p.t - T0) / 1000)).toEqual([5, 6, 7, 8, 9]);
    expect(h.map((p) => p.max)).toEqual([6, 7, 8, 9, 10]);
    // Long idle: everything recorded before is gone, only gaps remain.
    const later = r.history(T0 + 100_000);
    expect(later.length).toBe(5);
    expect(later.every((p) => p.count === 0 && p.t >= T0 + 95_000)).toBe(true);
  });

  test("memory is fixed however many slots pass", () => {
    const r = new RollingLatency({ slotMs: 10, slots: 30 });
    const bytes = r.byteLength;
    for (let i = 0; i < 100_000; i++) r.record(i % 50, T0 + i);
    expect(r.byteLength).toBe(bytes);
    expect(r.history(T0 + 100_000).length).toBe(30);
  });

  test("a clock stepping back records into the current slot", () => {
    const r = new RollingLatency({ slotMs: 1000, slots: 5 });
    r.record(1, T0 + 5000);
    r.record(2, T0 + 1000);
    expect(r.history(T0 + 6000)).toEqual([{ t: T0 + 5000, count: 2, p50: 1, p99: 2, max: 2 }]);
  });
});

describe("RateMeter", () => {
  test("first call is zero; then per-second rates of the totals", () => {
    const m = new RateMeter(2);
    expect(m.rates(0, [0, 0])).toEqual([0, 0]);
    expect(m.rates(1000, [100, 50])).toEqual([100, 50]);
    expect(m.rates(2000, [300, 50])).toEqual([150, 25]);
  });

  test("measures over the window, not since start", () => {
    const m = new RateMeter(1, { windowMs: 5000 });
    let total = 0;
    for (let t = 0; t <= 60_000; t += 1000) {
      total += t < 30_000 ? 1000 : 10;
      m.rates(t, [total]);
    }
    // 30 s after the burst ended only the slow rate is left (10 per second).
    expect(m.rates(61_000, [total + 10])).toEqual([10]);
  });

  test("frequent calls do not shrink the window; a reset gives 0, never negative", () => {
    const m = new RateMeter(1, { windowMs: 5000, minIntervalMs: 250 });
    for (let t = 0; t <= 5000; t += 10) m.rates(t, [t]); // 1 per ms = 1000/s
    const [r] = m.rates(5010, [5010]);
    expect(r).toBeCloseTo(1000, 6);
    expect(m.rates(6000, [0])).toEqual([0]);
  });
});
