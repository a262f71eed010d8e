/**
 * Finds and shrinks a counterexample per kind of violation (developer tool, not part of the
 * suite): `bun test/model/hunt.ts [kind] [runs]`. Prints each shrunk scenario as JSON, ready
 * to become a fixed case in cases.ts.
 */
import fc from "fast-check";
import { scenarioArb } from "./commands.ts";
import { check, summary, type Violation } from "./oracle.ts";
import { runScenario } from "./runner.ts";

const kinds: Violation["kind"][] = process.argv[2] ? [process.argv[2] as Violation["kind"]] : ["lost", "misordered", "doubled", "unlogged", "false-leave", "double-leave", "missing-leave", "lost-entity", "presence", "world", "stats", "crash", "no-hello"];
const runs = Number(process.argv[3] ?? 300);
for (const kind of kinds) {
  const t0 = performance.now();
  const r = await fc.check(
    fc.asyncProperty(scenarioArb(), async (s) => !check(await runScenario(s)).some((v) => v.kind === kind)),
    { numRuns: runs, seed: Number(process.env.MODEL_SEED ?? 1), interruptAfterTimeLimit: 120_000 },
  );
  const ms = Math.round(performance.now() - t0);
  if (!r.failed || !r.counterexample) {
    console.log(`## ${kind}: none in ${r.numRuns} runs (${ms} ms)`);
    continue;
  }
  const [s] = r.counterexample;
  console.log(`## ${kind}: ${s.cmds.length} commands after ${r.numShrinks} shrinks (${ms} ms)`);
  console.log(JSON.stringify(s));
  console.log(summary(check(await runScenario(s)).filter((v) => v.kind === kind)));
}
