/** The per-connection sliding-window limiter (src/limits/message.ts). No sleeping: time is a variable. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ManualClock } from "../../src/lib/clock.ts";
import { Decision, LimiterState, MessageLimiter, type SlidingWindowOptions } from "../../src/limits/index.ts";

/** A limiter on a settable time, starting at 0 (aligned to every window). */
function setup(opts: SlidingWindowOptions = {}) {
  const clock = { t: 0 };
  const limiter = new MessageLimiter(opts, () => clock.t);
  return { clock, limiter, state: limiter.newState() };
}

/** Most timestamps (sorted) inside any half-open interval of `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && times[j]! < times[i]! + windowMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

/** A copy of a state, to probe the future without disturbing the original. */
function clone(s: LimiterState): LimiterState {
  const c = new LimiterState(s.counts.length);
  c.counts.set(s.counts);
  Object.assign(c, { head: s.head, sum: s.sum, errorAt: s.errorAt, strikeWindow: s.strikeWindow, strikes: s.strikes });
  return c;
}

describe("MessageLimiter: counts", () => {
  test("accepts exactly `limit` at once, then drops (the first drop asks for an error)", () => {
    const { limiter, state } = setup();
    for (let i = 0; i < 120; i++) expect(limiter.check(state)).toBe(Decision.Accept);
    expect(limiter.check(state)).toBe(Decision.Notify);
    expect(limiter.check(state)).toBe(Decision.Drop);
    expect(limiter.dropped).toBe(2);
  });

  test("other limits and windows: 5 per 100 ms", () => {
    const { clock, limiter, state } = setup({ limit: 5, windowMs: 100 });
    const accepted = () => Array.from({ length: 9 }, () => limiter.check(state)).filter((d) => d === Decision.Accept).length;
    expect(accepted()).toBe(5);
    clock.t = 99;
    expect(accepted()).toBe(0);
    clock.t = 110; // a window and a sub-bucket after the burst: a full burst again
    expect(accepted()).toBe(5);
  });

  test("a full burst waits one sub-bucket more than the window; exactly a window later only cap − limit pass", () => {
    const { clock, limiter, state } = setup({ limit: 5, windowMs: 100 });
    for (let i = 0; i < 5; i++) limiter.check(state);
    clock.t = 100;
    expect(limiter.cap).toBe(6);
    expect([1, 2, 3].map(() => limiter.check(state))).toEqual([Decision.Accept, Decision.Notify, Decision.Drop]);
  });

  test("a client sending evenly at exactly the limit is never dropped", () => {
    for (const [limit, windowMs, buckets] of [[120, 1000, 10], [7, 333, 7], [50, 1000, 3], [1, 10, 10]] as const) {
      const { clock, limiter, state } = setup({ limit, windowMs, buckets });
      for (let i = 0; i < limit * 20; i++) {
        clock.t = Math.floor((i * windowMs) / limit);
        expect(limiter.check(state)).toBe(Decision.Accept);
      }
      expect(limiter.dropped).toBe(0);
    }
  });

  test("limit 0 disables the limiter", () => {
    const { limiter, state } = setup({ limit: 0 });
    for (let i = 0; i < 10_000; i++) expect(limiter.check(state)).toBe(Decision.Accept);
    expect(limiter.retryAfterMs(state)).toBe(0);
  });

  test("bad options are refused with a sentence naming the option", () => {
    expect(() => new MessageLimiter({ limit: -1 }, () => 0)).toThrow(/Rate limit option limit must be a whole number/);
    expect(() => new MessageLimiter({ windowMs: 0 }, () => 0)).toThrow(/windowMs/);
    expect(() => new MessageLimiter({ buckets: 1.5 }, () => 0)).toThrow(/buckets/);
    expect(() => new MessageLimiter({ windowMs: 5, buckets: 10 }, () => 0)).toThrow(/buckets/);
  });

  test("works on a Clock (ManualClock at epoch times) and with an explicit time", () => {
    const clock = new ManualClock();
    const limiter = new MessageLimiter({ limit: 3 }, clock);
    const s = limiter.newState();
    for (let i = 0; i < 3; i++) expect(limiter.check(s)).toBe(Decision.Accept);
    expect(limiter.check(s)).toBe(Decision.Notify);
    expect(limiter.retryAfterMs(s)).toBe(1000);
    clock.advance(1000);
    expect(limiter.check(s)).toBe(Decision.Accept);
    expect(limiter.check(s, clock.now() + 5000)).toBe(Decision.Accept);
  });

  test("a clock that goes back counts into the newest bucket (no extra budget)", () => {
    const { clock, limiter, state } = setup();
    clock.t = 5000;
    for (let i = 0; i < 120; i++) limiter.check(state);
    clock.t = 1000;
    expect(limiter.check(state)).toBe(Decision.Notify);
  });
});

describe("MessageLimiter: the sliding-window bound", () => {
  test("limit at the end of a window, then limit at the start of the next: refused; a window later 12, not 120", () => {
    const { clock, limiter, state } = setup();
    const accepted: number[] = [];
    const send = (t: number, n: number) => {
      clock.t = t;
      for (let i = 0; i < n; i++) if (limiter.check(state) === Decision.Accept) accepted.push(t);
    };
    send(999, 120);
    send(1000, 120);
    expect(accepted.length).toBe(120);
    for (let t = 1001; t <= 2100; t++) send(t, 120);
    expect(accepted.filter((t) => t < 1999).length).toBe(132);
    expect(maxInWindow(accepted, 1000)).toBe(132);
    expect(limiter.cap).toBe(132);
    expect(maxInWindow(accepted, 1000)).toBeLessThan(240);
  });

  test("the bound is exact: 12 at the end of a sub-bucket and 120 a window later fit one window", () => {
    const { clock, limiter, state } = setup();
    const accepted: number[] = [];
    for (const [t, n] of [[99, 12], [1000, 120]] as const) {
      clock.t = t;
      for (let i = 0; i < n; i++) if (limiter.check(state) === Decision.Accept) accepted.push(t);
    }
    expect(accepted.length).toBe(132);
    expect(maxInWindow(accepted, 1000)).toBe(132);
  });

  test("a client trying every millisecond for 10 s never gets more than the cap in any window", () => {
    const { clock, limiter, state } = setup();
    const accepted: number[] = [];
    for (let t = 0; t < 10_000; t++) {
      clock.t = t;
      if (limiter.check(state) === Decision.Accept) accepted.push(t);
    }
    expect(maxInWindow(accepted, 1000)).toBeLessThanOrEqual(132);
    // …and it still gets the full rate over the long run.
    expect(accepted.length).toBeGreaterThanOrEqual(1190);
  });

  test("property: any schedule, any options: at most `cap` in any window, and `cap` < 2 × limit from K = 2", () => {
    const schedule = fc.array(fc.record({ gap: fc.nat(2500), n: fc.integer({ min: 1, max: 80 }) }), { maxLength: 60 });
    const opts = fc.record({ limit: fc.integer({ min: 1, max: 60 }), windowMs: fc.integer({ min: 10, max: 2000 }), buckets: fc.integer({ min: 1, max: 12 }) });
    fc.assert(
      fc.property(opts, schedule, (o, events) => {
        const { clock, limiter, state } = setup({ ...o, buckets: Math.min(o.buckets, o.windowMs) });
        const accepted: number[] = [];
        for (const e of events) {
          clock.t += e.gap;
          for (let i = 0; i < e.n; i++) if (limiter.check(state) === Decision.Accept) accepted.push(clock.t);
        }
        expect(maxInWindow(accepted, o.windowMs)).toBeLessThanOrEqual(limiter.cap);
        if (o.windowMs % limiter.buckets === 0) expect(limiter.cap).toBe(o.limit + Math.ceil(o.limit / limiter.buckets));
        // One sub-bucket (K = 1) is a fixed window: 2×. From K = 2 on, the cap is below 2×.
        if (limiter.buckets >= 2 && o.limit >= 2 && o.windowMs % limiter.buckets === 0) expect(limiter.cap).toBeLessThan(2 * o.limit);
      }),
      { numRuns: 300 },
    );
  });
});

describe("MessageLimiter: errors and retry_after_ms", () => {
  test("one RATE_LIMITED per window for a client flooding for 3.5 s", () => {
    const { clock, limiter, state } = setup({ strikes: 0 });
    const notices: number[] = [];
    for (let t = 0; t < 3500; t += 10) {
      clock.t = t;
      for (let i = 0; i < 50; i++) if (limiter.check(state) === Decision.Notify) notices.push(t);
    }
    expect(notices).toEqual([20, 1020, 2020, 3020]);
  });

  test("retry_after_ms: after a full burst, exactly one window; a message then is accepted, a millisecond earlier is not", () => {
    const { clock, limiter, state } = setup();
    for (let i = 0; i < 121; i++) limiter.check(state);
    const r = limiter.retryAfterMs(state);
    expect(r).toBe(1000);
    clock.t = r - 1;
    expect(limiter.check(state)).not.toBe(Decision.Accept);
    clock.t = r;
    expect(limiter.check(state)).toBe(Decision.Accept);
  });

  test("retry_after_ms after an even spread: the next sub-bucket boundary", () => {
    const { clock, limiter, state } = setup();
    for (let b = 0; b < 10; b++) {
      clock.t = b * 100;
      for (let i = 0; i < 12; i++) expect(limiter.check(state)).toBe(Decision.Accept);
    }
    clock.t = 950;
    expect(limiter.check(state)).toBe(Decision.Notify);
    expect(limiter.retryAfterMs(state)).toBe(50);
    expect(limiter.retryAfterMs(state, 920)).toBe(80);
  });

  test("property: whenever a message is dropped, retryAfterMs is exactly when the next one is accepted", () => {
    const schedule = fc.array(fc.record({ gap: fc.nat(700), n: fc.integer({ min: 1, max: 40 }) }), { maxLength: 40 });
    const opts = fc.record({ limit: fc.integer({ min: 1, max: 30 }), windowMs: fc.integer({ min: 10, max: 1500 }), buckets: fc.integer({ min: 1, max: 12 }) });
    fc.assert(
      fc.property(opts, schedule, (o, events) => {
        const { clock, limiter, state } = setup({ ...o, buckets: Math.min(o.buckets, o.windowMs), strikes: 0 });
        for (const e of events) {
          clock.t += e.gap;
          for (let i = 0; i < e.n; i++) {
            if (limiter.check(state) === Decision.Accept) continue;
            const r = limiter.retryAfterMs(state);
            expect(r).toBeGreaterThan(0);
            expect(limiter.check(clone(state), clock.t + r)).toBe(Decision.Accept);
            expect(limiter.check(clone(state), clock.t + r - 1)).not.toBe(Decision.Accept);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("MessageLimiter: strikes", () => {
  /** Five messages at the start of window `w` (limit 1 per 100 ms): one accepted, four dropped. */
  const flood = (s: ReturnType<typeof setup>, w: number) => {
    s.clock.t = w * 100;
    return Array.from({ length: 5 }, () => s.limiter.check(s.state));
  };

  test("over the limit in `strikes` consecutive windows: Close on the first drop of the last one", () => {
    const s = setup({ limit: 1, windowMs: 100, strikes: 3 });
    expect(flood(s, 0)).toEqual([Decision.Accept, Decision.Notify, Decision.Drop, Decision.Drop, Decision.Drop]);
    expect(flood(s, 1)).toEqual([Decision.Accept, Decision.Notify, Decision.Drop, Decision.Drop, Decision.Drop]);
    expect(flood(s, 2)).toEqual([Decision.Accept, Decision.Close, Decision.Close, Decision.Close, Decision.Close]);
    expect(s.limiter.closes).toBe(1);
  });

  test("a quiet window, or one with messages but no drop, resets the count", () => {
    const s = setup({ limit: 1, windowMs: 100, strikes: 3 });
    const closes = () => s.limiter.closes;
    flood(s, 0);
    flood(s, 1);
    // window 2: silent
    flood(s, 3);
    flood(s, 4);
    expect(closes()).toBe(0);
    expect(s.state.strikes).toBe(2);
    s.clock.t = 500; // window 5: one message, within the limit
    expect(s.limiter.check(s.state)).toBe(Decision.Accept);
    flood(s, 6);
    flood(s, 7);
    expect(closes()).toBe(0);
    expect(flood(s, 8)).toContain(Decision.Close);
    expect(closes()).toBe(1);
  });

  test("strikes 0 never closes; the default closes in the 10th window", () => {
    const never = setup({ limit: 1, windowMs: 100, strikes: 0 });
    for (let w = 0; w < 50; w++) expect(flood(never, w)).not.toContain(Decision.Close);
    const dflt = setup({ limit: 1, windowMs: 100 });
    for (let w = 0; w < 9; w++) expect(flood(dflt, w)).not.toContain(Decision.Close);
    expect(flood(dflt, 9)).toContain(Decision.Close);
  });
});

describe("MessageLimiter: memory", () => {
  test("the per-connection state is small: one object and one typed array of K + 1 counters", async () => {
    const { estimateShallowMemoryUsageOf } = await import("bun:jsc");
    const { state } = setup();
    expect(state.counts.length).toBe(11);
    expect(estimateShallowMemoryUsageOf(state) + estimateShallowMemoryUsageOf(state.counts)).toBeLessThanOrEqual(256);
  });
});
