/**
 * The load generator: one Bun process (pinned by the runner to its own core) that opens raw-TCP
 * WebSocket clients against one server (or two, for the cluster), drives one scenario, and
 * prints one JSON line with its figures. Usage: `bun bench/loadgen.ts '<LoadSpec JSON>'`.
 *
 * Latency: every message carries a sequence number; the send time of each sequence is kept in
 * a ring indexed by it, and a receiver's latency is `now − sendTime[seq]` (same process, same
 * clock). Only messages received inside the measurement window count.
 *
 * The scenarios are in lib/scenarios/ (fanout, position, idle, storm); what they share, in
 * lib/scenarios/common.ts.
 * @module
 */
import { LoadRun, type Scenario, sleep } from "./lib/scenarios/common.ts";
import { fanout } from "./lib/scenarios/fanout.ts";
import { idle } from "./lib/scenarios/idle.ts";
import { position } from "./lib/scenarios/position.ts";
import { storm } from "./lib/scenarios/storm.ts";
import type { LoadResult, LoadSpec } from "./lib/spec.ts";

const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
const run = new LoadRun(spec);

const deadline = setTimeout(() => {
  finish({ ok: false, error: `load generator deadline (${spec.deadlineMs} ms) passed` });
}, spec.deadlineMs ?? 120_000);

function finish(r: LoadResult): never {
  clearTimeout(deadline);
  process.stdout.write(`${JSON.stringify(r)}\n`);
  for (const c of run.conns) c.terminate();
  process.exit(r.ok ? 0 : 1);
}

const SCENARIOS: Record<LoadSpec["scenario"], Scenario> = { fanout, position, idle, storm };

try {
  const scenario = SCENARIOS[spec.scenario];
  if (!scenario) finish({ ok: false, error: `unknown scenario ${spec.scenario}` });
  const r = await scenario(run);
  for (const c of run.conns) c.close();
  await sleep(100);
  finish(r);
} catch (e) {
  finish({ ok: false, error: `load generator crashed: ${(e as Error).stack ?? e}` });
}
