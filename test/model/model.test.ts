/**
 * [guarantees] The model test (issue 13): a simulated cluster of three instances on one
 * manual-delivery MemoryBroker and a ManualClock, six SDK-like clients, random commands —
 * joins, deliberate leaves, reliable and unreliable sends, TCP drops (frames in flight lost),
 * resumes on any instance, half-open sockets, instance deaths and restarts, bus holds, stalls,
 * reordering within one publisher's order, outages, slow readers, short resume windows, time.
 * After every run the oracle (oracle.ts) checks: every reliable message reaches every member
 * that stayed or resumed exactly once, in room order; no leave for a connected client or one
 * inside its window; one leave per ended session; presence, stats and world converge.
 *
 * In `npm test` it is bounded (MODEL_CI_MS, default 20 s of random runs, plus the fixed
 * cases). `npm run test:model` runs longer: MODEL_RUNS (default 2000), MODEL_SECONDS (default
 * 600), MODEL_SEED (default random; printed on failure with the shrunk scenario).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { FIXED_CASES, KNOWN_GAPS } from "./cases.ts";
import { scenarioArb } from "./commands.ts";
import { check, summary } from "./oracle.ts";
import { runScenario } from "./runner.ts";

const long = process.env.MODEL_LONG === "1";
const budgetMs = long ? Number(process.env.MODEL_SECONDS ?? 600) * 1000 : Number(process.env.MODEL_CI_MS ?? 20_000);
const numRuns = Number(process.env.MODEL_RUNS ?? (long ? 2000 : 400));
// Inside `npm test` the random runs are reproducible (one fixed seed: the same 400 scenarios on
// every machine); `npm run test:model` explores new seeds.
const CI_SEED = 3;
const seed = process.env.MODEL_SEED === undefined ? (long ? undefined : CI_SEED) : Number(process.env.MODEL_SEED);

describe("model: fixed cases (shrunk counterexamples)", () => {
  for (const c of FIXED_CASES) {
    test(`[finding ${c.finding}] ${c.name}`, async () => {
      const v = check(await runScenario(c.scenario));
      expect(summary(v)).toBe("");
    });
  }
});

describe("model: known gaps (open; each still breaks a guarantee)", () => {
  for (const c of KNOWN_GAPS) {
    test.failing(`[${c.finding}] ${c.name}`, async () => {
      expect(summary(check(await runScenario(c.scenario)))).toBe("");
    });
  }
});

describe("model: random runs", () => {
  test(`random scenarios (up to ${numRuns} runs or ${Math.round(budgetMs / 1000)} s): no guarantee broken`, async () => {
    const started = Date.now();
    let runs = 0;
    const r = await fc.check(
      fc.asyncProperty(scenarioArb(), async (s) => {
        runs++;
        const v = check(await runScenario(s));
        if (v.length > 0) throw new Error(summary(v.slice(0, 8)));
      }),
      { numRuns, seed, interruptAfterTimeLimit: budgetMs, markInterruptAsFailure: false },
    );
    const took = Math.round((Date.now() - started) / 1000);
    if (r.failed) {
      const [s] = r.counterexample ?? [];
      throw new Error(
        `a run broke a guarantee (seed ${r.seed}, path ${r.counterexample ? r.counterexamplePath : "?"}, ${runs} runs, ${r.numShrinks} shrinks, ${took} s)\n` +
          `scenario: ${JSON.stringify(s)}\n${(r.errorInstance as Error | undefined)?.message ?? ""}`,
      );
    }
    console.log(`model: ${r.numRuns} runs clean in ${took} s (seed ${r.seed})`);
  }, budgetMs + 60_000);
});
