/**
 * [guarantees] Finding 8: the global limiter must be fair when demand varies. One client
 * flooding (~5,000 msg/s) against GLOBAL_RATE_LIMIT_MESSAGES=100 while nine others send
 * 4 msg/s each: a sender within its fair share (100 / 10 = 10 msg/s) must lose nothing —
 * also in the first window and when the number of senders changes. Today 9–27 of the 72
 * normal messages were dropped. The limiter runs on an injected clock (src/limits/global.ts).
 */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { Decision, GlobalLimiter, LimiterState } from "../../src/limits/index.ts";

interface Plan {
  /** When each of the nine normal senders starts (ms). */
  start: (i: number) => number;
  /** When the flooder starts (ms). */
  floodFrom: number;
  /** Milliseconds simulated. */
  ms: number;
}

/** Plays 1 ms ticks: the flooder sends `rate` per ms; normal sender i sends every 250 ms from its start (4 msg/s). */
function play(plan: Plan & { rate?: number }): { normalSent: number; normalDropped: number; floodAccepted: number; perWindow: number[] } {
  let t = 0;
  const g = new GlobalLimiter({ limit: 100, windowMs: 1000 }, () => t);
  const flooder = new LimiterState(1);
  const normals = Array.from({ length: 9 }, () => new LimiterState(1));
  let normalSent = 0, normalDropped = 0, floodAccepted = 0;
  const perWindow: number[] = [];
  for (t = 0; t < plan.ms; t++) {
    if (t >= plan.floodFrom) for (let k = 0; k < (plan.rate ?? 5); k++) if (g.check(flooder, t) === Decision.Accept) floodAccepted++;
    normals.forEach((s, i) => {
      const from = plan.start(i);
      if (t < from || (t - from) % 250 !== 0) return;
      normalSent++;
      if (g.check(s, t) !== Decision.Accept) normalDropped++;
    });
    perWindow[Math.floor(t / 1000)] = g.used(t);
  }
  return { normalSent, normalDropped, floodAccepted, perWindow };
}

test("[finding 8] a flooder from the first millisecond: the nine senders within their share lose nothing, the budget holds", () => {
  const r = play({ start: (i) => 7 * i, floodFrom: 0, ms: 2000 });
  expect(r.normalSent).toBe(72);
  expect(r.normalDropped).toBe(0);
  for (const used of r.perWindow) expect(used).toBeLessThanOrEqual(100);
});

test("[finding 8] first window: the flooder takes the budget before the others speak; they still lose nothing", () => {
  const r = play({ start: (i) => 500 + 50 * i, floodFrom: 0, ms: 2500 });
  expect(r.normalDropped).toBe(0);
});

test("[finding 8] any phase, flood start and rate (1,000–10,000 msg/s): a sender within its share loses nothing", () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 2999 }), { minLength: 9, maxLength: 9 }), fc.nat({ max: 2999 }), fc.integer({ min: 1, max: 10 }), (starts, floodFrom, rate) => {
      const r = play({ start: (i) => starts[i]!, floodFrom, rate, ms: 4000 });
      return r.normalDropped === 0;
    }),
    { numRuns: 60, seed: 8 },
  );
});

test("[finding 8] senders joining one by one while the flood goes on: nobody within its share loses a message", () => {
  const r = play({ start: (i) => 180 * i, floodFrom: 0, ms: 4000 });
  expect(r.normalDropped).toBe(0);
  expect(r.floodAccepted).toBeGreaterThan(0);
});

test("[finding 8] the flood starts mid-window after quiet senders: they still lose nothing", () => {
  const r = play({ start: (i) => 3 * i, floodFrom: 1500, ms: 4000 });
  expect(r.normalDropped).toBe(0);
});
