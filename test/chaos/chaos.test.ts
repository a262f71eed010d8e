/**
 * [guarantees] The short fault run inside `npm test` (issue 13): the real processes, the real
 * Redis, the seeded schedule of `npm run test:chaos`, shortened (CHAOS_SECONDS, default 10 s
 * of schedule; a random seed unless CHAOS_SEED is set — printed either way). Every guarantee
 * must hold; the failure message is the full verdict.
 */
import { expect, test } from "bun:test";
import { faultRun } from "./fault-run.ts";
import { render, verdicts } from "./verdict.ts";

const seconds = Number(process.env.CHAOS_SECONDS ?? 10);
const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));

test(`fault run (seed ${seed}, ${seconds} s): Bun, Deno and Node on one Redis through drops, resumes, leaves, a kill -9 and a Redis stall — nothing lost, doubled or misordered, no false leave, presence and world converge`, async () => {
  const obs = await faultRun({ seed, durationMs: seconds * 1000, cluster: false });
  const vs = verdicts(obs);
  const broken = vs.filter((v) => v.count > 0);
  if (broken.length > 0) console.log(`fault run seed ${seed}:\n${render(vs)}`);
  expect(broken.length === 0 ? "" : `seed ${seed} (replay: npm run test:chaos -- --seed ${seed} --duration ${seconds})\n${render(vs)}`).toBe("");
}, (seconds + 60) * 1000);
