/** Connection attempts per IP (src/limits/connect.ts): 429 + Retry-After, bounded table, sweeping. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ManualClock } from "../../src/lib/clock.ts";
import { ConnectLimiter, type ConnectLimitOptions } from "../../src/limits/index.ts";

function setup(opts: ConnectLimitOptions = {}) {
  const clock = { t: 1_700_000_000_000 };
  return { clock, limiter: new ConnectLimiter(opts, () => clock.t) };
}
const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

describe("ConnectLimiter", () => {
  test("a burst of exactly `limit` (300 per 10 s), then 429 with Retry-After", () => {
    const { limiter } = setup();
    for (let i = 0; i < 300; i++) expect(limiter.attempt("1.2.3.4")).toEqual({ ok: true });
    expect(limiter.attempt("1.2.3.4")).toEqual({ ok: false, retryAfterSec: 1 });
    expect(limiter.rejected).toBe(1);
    expect(limiter.attempt("5.6.7.8")).toEqual({ ok: true }); // other IPs are not affected
  });

  test("Retry-After is exact: 2 per 10 s → 5 s; at 4.999 s still refused, at 5 s accepted", () => {
    const { clock, limiter } = setup({ limit: 2 });
    const t0 = clock.t;
    expect(limiter.attempt("a").ok).toBe(true);
    expect(limiter.attempt("a").ok).toBe(true);
    expect(limiter.attempt("a")).toEqual({ ok: false, retryAfterSec: 5 });
    clock.t = t0 + 4999;
    expect(limiter.attempt("a")).toEqual({ ok: false, retryAfterSec: 1 });
    clock.t = t0 + 5000;
    expect(limiter.attempt("a").ok).toBe(true);
    expect(limiter.attempt("a")).toEqual({ ok: false, retryAfterSec: 5 });
  });

  test("Retry-After seconds are rounded up, never early", () => {
    const { clock, limiter } = setup({ limit: 3, windowMs: 10_000 }); // one per 3333⅓ ms after the burst
    const t0 = clock.t;
    for (let i = 0; i < 3; i++) limiter.attempt("a");
    const r = limiter.attempt("a");
    expect(r).toEqual({ ok: false, retryAfterSec: 4 });
    clock.t = t0 + 3333;
    expect(limiter.attempt("a").ok).toBe(false);
    clock.t = t0 + 3334;
    expect(limiter.attempt("a").ok).toBe(true);
  });

  test("sustained: `limit` per window after the burst, and never 2 × limit in any window", () => {
    const { clock, limiter } = setup({ limit: 30, windowMs: 1000 });
    const t0 = clock.t;
    const accepted: number[] = [];
    for (let ms = 0; ms < 20_000; ms++) {
      clock.t = t0 + ms;
      if (limiter.attempt("a").ok) accepted.push(ms);
    }
    expect(accepted.length).toBe(30 + 600 - 1); // the burst, then one per 33⅓ ms for 20 s
    let most = 0;
    for (let i = 0, j = 0; i < accepted.length; i++) {
      while (j < accepted.length && accepted[j]! < accepted[i]! + 1000) j++;
      most = Math.max(most, j - i);
    }
    expect(most).toBeLessThanOrEqual(2 * 30 - 1);
  });

  test("limit 0 disables it and remembers nothing", () => {
    const { limiter } = setup({ limit: 0 });
    for (let i = 0; i < 10_000; i++) expect(limiter.attempt("a").ok).toBe(true);
    expect(limiter.size).toBe(0);
  });

  test("bounded memory: 100k distinct IPs at once never hold more than maxEntries", () => {
    const { limiter } = setup();
    let most = 0;
    for (let i = 0; i < 100_000; i++) {
      expect(limiter.attempt(ip(i)).ok).toBe(true);
      most = Math.max(most, limiter.size);
    }
    expect(most).toBe(10_000);
    expect(limiter.evicted).toBe(90_000);
  });

  test("100k distinct IPs spread over time: expired entries are swept, nothing evicted", () => {
    const { clock, limiter } = setup();
    let most = 0;
    for (let i = 0; i < 100_000; i++) {
      if (i % 10 === 0) clock.t++; // 10 new IPs per ms; each entry lives 33⅓ ms
      limiter.attempt(ip(i));
      most = Math.max(most, limiter.size);
    }
    expect(most).toBeLessThanOrEqual(360);
    expect(limiter.evicted).toBe(0);
  });

  test("expiry: an IP's entry goes once it is worth nothing, swept by later attempts (no timers)", () => {
    const clock = new ManualClock();
    const limiter = new ConnectLimiter({}, clock);
    for (let i = 0; i < 300; i++) limiter.attempt("heavy");
    limiter.attempt("light");
    expect(limiter.size).toBe(2);
    clock.advance(9_999);
    limiter.attempt("x");
    // "light" expired long ago but waits behind "heavy" (older, not yet expired): at most windowMs.
    expect(limiter.size).toBe(3);
    clock.advance(1);
    limiter.attempt("y");
    expect(limiter.size).toBe(2); // "heavy" and "light" swept; "x" (33 ms left) and "y" stay
    expect(clock.pending).toBe(0);
    limiter.sweep(clock.now() + 60_000);
    expect(limiter.size).toBe(0);
    expect(limiter.attempt("heavy").ok).toBe(true);
  });

  test("an IP that keeps trying stays tracked while others churn through a full table", () => {
    const { limiter } = setup({ limit: 5, maxEntries: 100 });
    for (let i = 0; i < 5; i++) limiter.attempt("abuser");
    for (let i = 0; i < 1000; i++) {
      limiter.attempt(ip(i));
      expect(limiter.attempt("abuser").ok).toBe(false);
    }
    expect(limiter.size).toBeLessThanOrEqual(100);
    // A quiet one is forgotten after maxEntries newcomers (documented): it starts afresh.
    for (let i = 0; i < 5; i++) limiter.attempt("quiet");
    for (let i = 0; i < 100; i++) limiter.attempt(ip(5000 + i));
    expect(limiter.attempt("quiet").ok).toBe(true);
  });

  test("property: same answers as a plain GCRA map (no eviction) through touches, sweeps and ring rebuilds", () => {
    const ops = fc.array(fc.record({ ip: fc.nat(30), gap: fc.oneof({ arbitrary: fc.nat(30), weight: 9 }, { arbitrary: fc.nat(3000), weight: 1 }) }), { minLength: 50, maxLength: 400 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), ops, (limit, seq) => {
        // A long window keeps all 31 IPs live, so vacated slots pile up and the ring is rebuilt often.
        const { clock, limiter } = setup({ limit, windowMs: 10_000, maxEntries: 31 });
        const model = new Map<string, number>(); // ip → TAT in ms (floating point is fine here)
        const T = 10_000 / limit;
        for (const op of seq) {
          clock.t += op.gap;
          const key = `ip${op.ip}`;
          const tat = Math.max(model.get(key) ?? clock.t, clock.t);
          const wait = tat - clock.t - (10_000 - T);
          const expected = wait > 1e-6 ? { ok: false, retryAfterSec: Math.max(1, Math.ceil(wait / 1000 - 1e-9)) } : { ok: true };
          if (expected.ok) model.set(key, tat + T);
          expect(limiter.attempt(key)).toEqual(expected as never);
          expect(limiter.size).toBeLessThanOrEqual(31);
        }
        expect(limiter.evicted).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  test("keys are cut to 64 characters", () => {
    const { limiter } = setup({ limit: 1 });
    const long = "x".repeat(64);
    expect(limiter.attempt(long + "a").ok).toBe(true);
    expect(limiter.attempt(long + "b").ok).toBe(false);
  });

  test("bad options are refused with a sentence naming the option", () => {
    expect(() => new ConnectLimiter({ limit: -1 }, () => 0)).toThrow(/limit/);
    expect(() => new ConnectLimiter({ maxEntries: 0 }, () => 0)).toThrow(/maxEntries/);
  });
});
