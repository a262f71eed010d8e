/** The global per-instance budget with fair-share dropping (src/limits/global.ts). */
import { describe, expect, test } from "bun:test";
import { Decision, GlobalLimiter, LimiterState } from "../../src/limits/index.ts";

/** A 1000-per-second global budget and `n` connections, on a settable time starting at 0. */
function setup(n = 10, limit = 1000) {
  const clock = { t: 0 };
  const g = new GlobalLimiter({ limit, windowMs: 1000 }, () => clock.t);
  const conns = Array.from({ length: n }, () => new LimiterState(1));
  return { clock, g, conns };
}

/**
 * Plays window `w` as 100 ticks 10 ms apart. In each tick, connection i sends its messages for
 * that tick (`perTick(i, tick)`), connection 0 first. Returns the accepted count per connection.
 */
function playWindow(s: ReturnType<typeof setup>, w: number, perTick: (i: number, tick: number) => number): number[] {
  const got = s.conns.map(() => 0);
  for (let tick = 0; tick < 100; tick++) {
    s.clock.t = w * 1000 + tick * 10;
    s.conns.forEach((c, i) => {
      for (let k = perTick(i, tick); k > 0; k--) if (s.g.check(c) === Decision.Accept) got[i]!++;
    });
  }
  return got;
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
/** 80 messages per window: one per tick in the first 80 ticks (share is 100). */
const normal = (tick: number) => (tick < 80 ? 1 : 0);

describe("GlobalLimiter", () => {
  test("under the budget everything passes", () => {
    const s = setup();
    for (let w = 0; w < 3; w++) expect(playWindow(s, w, (_, tick) => normal(tick))).toEqual(Array(10).fill(80));
    expect(s.g.dropped).toBe(0);
  });

  test("hard cap: never more than `limit` in a window, and the next window starts afresh", () => {
    const s = setup(1);
    expect(playWindow(s, 0, () => 20)).toEqual([1000]);
    expect(s.g.used(999)).toBe(1000);
    expect(s.g.used(1000)).toBe(0);
    expect(playWindow(s, 1, () => 20)).toEqual([1000]);
    expect(s.g.dropped).toBe(2000);
  });

  test("more senders than budget at once: each's first message passes (its share floors at 1), never more than 2 × limit", () => {
    const s = setup(3000);
    const got = s.conns.map((c) => s.g.check(c));
    expect(got.filter((d) => d === Decision.Accept).length).toBe(2000);
    expect(got.slice(0, 2000).every((d) => d === Decision.Accept)).toBe(true);
  });

  test("fairness: a flooder at 10× its share cannot starve 9 senders within theirs", () => {
    const s = setup();
    const flood = (i: number, tick: number) => (i === 0 ? 10 : normal(tick)); // 1000 vs 80 per window
    // First window (no history): the flooder gets its share, 100; no spare is lent yet.
    const first = playWindow(s, 0, flood);
    expect(first.slice(1)).toEqual(Array(9).fill(80));
    expect(first[0]).toBe(100);
    // From then on it also gets the spare the others leave: 1000 − 9 × 80 = 280, and the total is the budget.
    for (let w = 1; w < 6; w++) {
      const got = playWindow(s, w, flood);
      expect(got.slice(1)).toEqual(Array(9).fill(80));
      expect(got[0]).toBe(280);
      expect(sum(got)).toBe(1000);
    }
  });

  test("fairness with the worst order: the flooder sends its whole 1000 at the start of each window", () => {
    const s = setup();
    const flood = (i: number, tick: number) => (i === 0 ? (tick === 0 ? 1000 : 0) : normal(tick));
    // Window 0 has no history and the flooder speaks before anyone else, so it counts as the only
    // sender: its whole 1000 is within its share, and the others' too (bounded by 2 × limit).
    const first = playWindow(s, 0, flood);
    expect(first.slice(1)).toEqual(Array(9).fill(80));
    expect(sum(first)).toBeLessThanOrEqual(2000);
    const totals: number[] = [];
    for (let w = 1; w < 6; w++) {
      const got = playWindow(s, w, flood);
      totals.push(sum(got));
      expect(got.slice(1)).toEqual(Array(9).fill(80));
      expect(got[0]).toBe(w === 1 ? 100 : 280);
    }
    for (const total of totals) expect(total).toBeLessThanOrEqual(1000);
  });

  test("a flood that starts after quiet windows costs the others nothing; the window passes the budget by at most the growth", () => {
    const s = setup();
    playWindow(s, 0, (_, tick) => normal(tick));
    playWindow(s, 1, (_, tick) => normal(tick));
    const flood = (i: number, tick: number) => (i === 0 ? 10 : normal(tick));
    // Within-share demand grows by 20 (the flooder's own 80 → 100).
    const onset = playWindow(s, 2, flood);
    expect(onset.slice(1)).toEqual(Array(9).fill(80));
    expect(sum(onset)).toBeLessThanOrEqual(1000 + 20);
    for (let w = 3; w < 6; w++) expect(playWindow(s, w, flood).slice(1)).toEqual(Array(9).fill(80));
  });

  test("the issue's mix: a 5,000/s flooder against a budget of 100 while nine send 4/s at random moments, senders joining and leaving: the nine lose nothing, from the first window on", () => {
    const clock = { t: 0 };
    const g = new GlobalLimiter({ limit: 100, windowMs: 1000 }, () => clock.t);
    const flooder = new LimiterState(1);
    const nine = Array.from({ length: 12 }, () => new LimiterState(1));
    // Each normal sender speaks every 250 ms at its own (random) phase: 4 per window, within its share of 10.
    const phase = nine.map((_, i) => (i * 97 + 31) % 250);
    let sent = 0, lost = 0;
    for (let t = 0; t < 20_000; t++) {
      clock.t = t;
      for (let k = 0; k < 5; k++) g.check(flooder); // 5,000/s
      // Nine at a time are active: senders 0–8 for 10 s, then 3–11 (three leave, three join).
      const active = t < 10_000 ? [0, 1, 2, 3, 4, 5, 6, 7, 8] : [3, 4, 5, 6, 7, 8, 9, 10, 11];
      for (const i of active) {
        if (t % 250 !== phase[i]) continue;
        sent++;
        if (g.check(nine[i]!) !== Decision.Accept) lost++;
      }
    }
    expect(sent).toBeGreaterThan(600);
    expect(lost).toBe(0);
  });

  test("two flooders share the spare; senders within their share still get everything", () => {
    const s = setup();
    const flood = (i: number, tick: number) => (i < 2 ? 10 : normal(tick));
    playWindow(s, 0, flood);
    for (let w = 1; w < 4; w++) {
      const got = playWindow(s, w, flood);
      expect(got.slice(2)).toEqual(Array(8).fill(80));
      expect(sum(got)).toBe(1000);
      expect(got[0]! + got[1]!).toBe(360);
    }
  });

  test("RATE_LIMITED at most once per window per connection; retryAfterMs is the next window, where a message is accepted", () => {
    const s = setup(1, 10);
    const [c] = s.conns as [LimiterState];
    const notices: number[] = [];
    for (let t = 0; t < 2500; t += 5) {
      s.clock.t = t;
      for (let k = 0; k < 3; k++) if (s.g.check(c) === Decision.Notify) notices.push(t);
    }
    expect(notices).toEqual([15, 1015, 2015]);
    s.clock.t = 2600;
    expect(s.g.retryAfterMs()).toBe(400);
    expect(s.g.check(c, 2999)).toBe(Decision.Drop);
    expect(s.g.check(c, 3000)).toBe(Decision.Accept);
  });

  test("limit 0 disables it", () => {
    const s = setup(1, 0);
    for (let i = 0; i < 100_000; i++) expect(s.g.check(s.conns[0]!)).toBe(Decision.Accept);
    expect(s.g.retryAfterMs()).toBe(0);
  });
});
