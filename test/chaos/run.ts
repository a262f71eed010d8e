/**
 * `npm run test:chaos` — issue 13's fault run on real processes, with a verdict per guarantee.
 *
 *   bun test/chaos/run.ts [--seed N] [--seeds K] [--duration S] [--cluster]
 *
 * --seed N     replay the schedule of seed N (default: a random seed, printed)
 * --seeds K    run K seeds in a row (N, N+1, …); stops at the end, not at the first failure
 * --duration S seconds of schedule (default 60); the settle and probes add ~15 s
 * --cluster    a Redis Cluster of 3 masters + 3 replicas; the room's master fails over mid-run
 *              (instead of the Redis stall)
 * --calm       traffic only, no faults: checks the harness itself (a calm run must pass)
 * Exit code 0 only when every run held every guarantee.
 * @module
 */
import { faultRun } from "./fault-run.ts";
import { render, verdicts } from "./verdict.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const first = Number(arg("seed") ?? Math.floor(Math.random() * 2 ** 31));
const seeds = Number(arg("seeds") ?? 1);
const durationMs = Number(arg("duration") ?? 60) * 1000;
const cluster = process.argv.includes("--cluster");
const calm = process.argv.includes("--calm");

let failed = 0;
for (let k = 0; k < seeds; k++) {
  const seed = first + k;
  const t0 = Date.now();
  console.log(`\n=== fault run: seed ${seed}, ${durationMs / 1000} s, ${cluster ? "Redis Cluster (3 masters + 3 replicas), failover" : "one Redis, stall"} ===`);
  try {
    const obs = await faultRun({ seed, durationMs, cluster, calm, log: (l) => console.log(`  · ${l}`) });
    const vs = verdicts(obs);
    const sent = obs.clients.reduce((n, c) => n + c.sent.size, 0);
    const delivered = obs.clients.reduce((n, c) => n + c.lives.reduce((m, l) => m + l.processed.length, 0), 0);
    console.log(`  ${sent} reliable messages sent, ${delivered} reliable deliveries processed, ${obs.skipped} of ${obs.events} events skipped (client not connected)`);
    console.log(render(vs));
    const bad = vs.filter((v) => v.count > 0).length;
    console.log(`  seed ${seed}: ${bad === 0 ? "PASS" : `FAIL (${bad} guarantees broken)`} in ${Math.round((Date.now() - t0) / 1000)} s`);
    if (bad > 0) failed++;
  } catch (e) {
    failed++;
    console.log(`  seed ${seed}: ERROR ${(e as Error).stack ?? e}`);
  }
}
console.log(`\n${seeds - failed} of ${seeds} seeds passed (first seed ${first}; replay one with --seed N)`);
process.exit(failed === 0 ? 0 : 1);
