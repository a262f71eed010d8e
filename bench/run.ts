/**
 * The benchmark runner. `bun bench/run.ts [--quick | --smoke] [options]`
 *
 * Starts each server pinned to core 0 and a load generator (bench/loadgen.ts) pinned to core 1,
 * one pair at a time, alternating the servers of a scenario (A B C A B C …); prints one JSON
 * line per run, per median and per product target on stdout, progress on stderr, and writes a
 * markdown report to bench/RESULTS.md (the mode is in its header) and the JSON lines to
 * bench/RESULTS.jsonl — only for a complete run; a filtered one writes .bench-tmp/RESULTS-partial.md.
 * Every child process is
 * started under `timeout -s KILL` and killed on exit, error and Ctrl-C.
 *
 * Options:
 *   --quick            only the issue-17 targets (fan-out and idle memory vs each runtime's limit), short
 *                      runs; writes .bench-tmp/RESULTS-quick.md (never bench/RESULTS.md), prints a
 *                      PASS/FAIL table last and exits 1 when a target failed
 *   --smoke            one tiny fan-out (a few seconds; for the smoke test); no report unless --out
 *   --only=a,b         scenarios by id (fanout, position-10hz, position-30hz, idle, storm, cluster)
 *   --targets=a,b      servers by id (gw-bun, raw-bun-publish, gw-node, …; see bench/lib/targets.ts)
 *   --reps=N           repetitions per server (default: per scenario)
 *   --set=k=v,k=v      override load-generator parameters (window, receivers, measureMs, hz, conns…)
 *   --server-root=DIR  run our server from another checkout (with its node_modules)
 *   --server-commit=REV  run our server as committed at REV (`git archive` into .bench-tmp/, this node_modules);
 *                      e.g. HEAD, to leave out uncommitted work in progress
 *   --cpu-prof=DIR     our server on Bun and Node writes a CPU profile per run into DIR (open in Chrome DevTools)
 *   --out=PATH         where the markdown goes (the JSON lines go next to it as .jsonl); --no-report writes none
 *   --report-from=FILE re-render the report from a saved .jsonl instead of running
 * @module
 */
import { spawnSync } from "bun";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { CHECKS, plan, type Mode, type Scenario } from "./lib/plan.ts";
import { loadAvg, machine } from "./lib/proc.ts";
import { HAVE_TASKSET, installCleanup, spawnChild, stopAll } from "./lib/procs.ts";
import type { LoadResult, LoadSpec } from "./lib/spec.ts";
import { median, range, sig } from "./lib/stats.ts";
import { buildFor, BUN, DENO, ROOT, RUNTIME_BASELINES, serverRoot, setCpuProfDir, setServerRoot, startTarget, TARGETS } from "./lib/targets.ts";
import { renderReport, verdictTable, type Summary } from "./lib/report.ts";

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const reportFrom = opt("report-from");
const saved = reportFrom ? readFileSync(reportFrom, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>) : [];
const mode: Mode = reportFrom ? (saved.find((l) => l.type === "meta")?.mode as Mode) : flag("smoke") ? "smoke" : flag("quick") ? "quick" : "full";
const only = opt("only")?.split(",");
const onlyTargets = opt("targets")?.split(",");
const repsOverride = opt("reps") ? Number(opt("reps")) : undefined;
// Only a complete run replaces the committed bench/RESULTS.md; a filtered one (--only, --targets,
// --reps, --set) writes to .bench-tmp/ unless --out says where.
const partial = ["only", "targets", "reps", "set"].some((o) => opt(o) !== undefined);
const outPath = flag("no-report") ? undefined
  : opt("out") ? resolve(opt("out")!) : mode === "smoke" ? undefined
  : resolve(ROOT, partial ? ".bench-tmp/RESULTS-partial.md" : mode === "quick" ? ".bench-tmp/RESULTS-quick.md" : "bench/RESULTS.md");

const log = (s: string) => process.stderr.write(`[bench ${((performance.now() - T0) / 1000).toFixed(1)}s] ${s}\n`);
const emitted: string[] = [];
const emit = (o: Record<string, unknown>) => {
  const line = JSON.stringify(o);
  emitted.push(line);
  process.stdout.write(`${line}\n`);
};
const T0 = performance.now();
const JWT_SECRET = `bench-secret-${crypto.randomUUID()}`;

installCleanup();
if (opt("server-root")) setServerRoot(resolve(opt("server-root")!));
if (opt("server-commit")) setServerRoot(checkoutCommit(opt("server-commit")!));
if (opt("cpu-prof")) setCpuProfDir(resolve(opt("cpu-prof")!));

function version(cmd: string[]): string {
  try {
    const r = spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    return r.stdout.toString().split("\n")[0].trim() || "unknown";
  } catch {
    return "unknown";
  }
}
/** Extracts commit `rev` of this repository into .bench-tmp/server-<sha> (once) and returns the folder. */
function checkoutCommit(rev: string): string {
  const r = spawnSync(["git", "-C", ROOT, "rev-parse", "--verify", `${rev}^{commit}`], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`--server-commit: unknown revision ${rev}`);
  const sha = r.stdout.toString().trim();
  const dir = resolve(ROOT, ".bench-tmp", `server-${sha.slice(0, 12)}`);
  if (!existsSync(resolve(dir, "package.json"))) {
    mkdirSync(dir, { recursive: true });
    const x = spawnSync(["sh", "-c", `git -C "${ROOT}" archive ${sha} | tar -x -C "${dir}"`], { stdout: "pipe", stderr: "pipe" });
    if (x.exitCode !== 0) throw new Error(`git archive ${sha} failed: ${x.stderr.toString()}`);
  }
  if (!existsSync(resolve(dir, "node_modules"))) symlinkSync(resolve(ROOT, "node_modules"), resolve(dir, "node_modules"));
  writeFileSync(resolve(dir, ".bench-commit"), sha);
  // Keep the three most recent extracts (each holds a ~100 MB compiled binary once built).
  const tmp = resolve(ROOT, ".bench-tmp");
  const old = readdirSync(tmp).filter((d) => d.startsWith("server-")).map((d) => resolve(tmp, d))
    .filter((d) => d !== dir).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs).slice(2);
  for (const d of old) rmSync(d, { recursive: true, force: true }); // unlinks the node_modules symlink, never follows it
  return dir;
}

/** The server checkout's commit and whether its src/ or adapters/ have uncommitted changes. */
function gitInfo(dir: string): { server_commit: string; server_uncommitted_changes: boolean | null } {
  const run = (a: string[]) => spawnSync(["git", "-C", dir, ...a], { stdout: "pipe", stderr: "ignore" });
  if (existsSync(resolve(dir, ".bench-commit"))) {
    return { server_commit: readFileSync(resolve(dir, ".bench-commit"), "utf8").trim().slice(0, 7), server_uncommitted_changes: false };
  }
  const head = run(["rev-parse", "--short", "HEAD"]);
  if (head.exitCode !== 0) return { server_commit: "unknown", server_uncommitted_changes: null };
  const st = run(["status", "--porcelain", "--", "src", "adapters", "package.json"]);
  return { server_commit: head.stdout.toString().trim(), server_uncommitted_changes: st.stdout.toString().trim().length > 0 };
}
const pkgVersion = (name: string) => {
  try {
    return require(resolve(ROOT, "node_modules", name, "package.json")).version as string;
  } catch {
    return "unknown";
  }
};

let scenarios = plan(mode);
if (only) scenarios = scenarios.filter((s) => only.includes(s.id));
if (onlyTargets) {
  scenarios = scenarios.map((s) => ({ ...s, targets: onlyTargets.filter((t) => s.targets.includes(t) || TARGETS[t]?.extra) })).filter((s) => s.targets.length);
}
const overrides = Object.fromEntries((opt("set")?.split(",") ?? []).map((kv) => kv.split("=")).map(([k, v]) => [k, Number.isNaN(Number(v)) ? v : Number(v)]));
if (Object.keys(overrides).length) scenarios = scenarios.map((s) => ({ ...s, spec: { ...s.spec, ...overrides } }));
if (repsOverride) scenarios = scenarios.map((s) => ({ ...s, reps: repsOverride }));
for (const s of scenarios) for (const t of s.targets) if (!TARGETS[t]) throw new Error(`unknown target ${t}`);

const m = machine();
const meta = reportFrom ? (saved.find((l) => l.type === "meta") as never) : {
  type: "meta",
  mode,
  date: new Date().toISOString(),
  cpu: m.cpu,
  cores: m.cores,
  mem_gib: m.memGiB,
  pinned: HAVE_TASKSET && m.cores >= 2,
  load_avg_1m_at_start: loadAvg(),
  server_root: relative(ROOT, serverRoot()) || ".",
  ...gitInfo(serverRoot()),
  versions: {
    bun: Bun.version,
    deno: version([DENO, "--version"]).replace(/^deno /, "").split(" ")[0],
    node: version(["node", "--version"]).replace(/^v/, ""),
    "socket.io": pkgVersion("socket.io"),
    ws: pkgVersion("ws"),
    hono: pkgVersion("hono"),
  },
};
emit(meta);
const pinServer = meta.pinned ? "0" : undefined;
const pinLoad = meta.pinned ? "1" : undefined;
if (!meta.pinned && !reportFrom) log("taskset or a second core is missing: processes are not pinned");

/** Every run's result, by scenario then target. */
const results = new Map<string, Map<string, (LoadResult & Record<string, unknown>)[]>>();
function record(row: Record<string, unknown>): void {
  const s = String(row.scenario);
  const t = String(row.target);
  let byTarget = results.get(s);
  if (!byTarget) results.set(s, (byTarget = new Map()));
  if (!byTarget.has(t)) byTarget.set(t, []);
  byTarget.get(t)!.push(row as LoadResult & Record<string, unknown>);
}

function loadSpec(s: Scenario, ports: number[], pids: number[]): LoadSpec {
  const durations = (s.spec.warmupMs ?? 0) + (s.spec.measureMs ?? 0) + (s.spec.drainMs ?? 0) + (s.spec.settleMs ?? 0) * 3;
  return { ...s.spec, scenario: s.kind, dialect: TARGETS[s.targets[0]].dialect, ports, serverPids: pids, jwtSecret: JWT_SECRET, deadlineMs: durations + 60_000 } as LoadSpec;
}

/** The most telling line of a crashed server's stderr (colour codes removed). */
function firstError(stderr: string): string {
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim()).filter(Boolean);
  const i = lines.findIndex((l) => /error|exception|panic|uncaught/i.test(l));
  return (i >= 0 ? lines.slice(i, i + 3) : lines.slice(-3)).join(" | ").slice(0, 500);
}

/**
 * One run of `targetId` in scenario `s`: recorded and reported, unless `probe` (a sizing run,
 * see {@link sizeByRawCpu}); `over` overrides the scenario's load spec. Returns the result row.
 */
async function runOnce(s: Scenario, targetId: string, rep: number, over: Partial<LoadSpec> = {}, probe = false): Promise<Record<string, unknown>> {
  const def = TARGETS[targetId];
  const row: Record<string, unknown> = { type: "result", scenario: s.id, target: targetId, runtime: def.runtime, kind: def.kind, rep };
  let started;
  try {
    started = await startTarget(def, JWT_SECRET, 180, pinServer);
    const spec = { ...loadSpec(s, started.ports, [...started.servers, ...(started.redis ? [started.redis] : [])].map((c) => c.pid)), ...over, dialect: def.dialect };
    const lg = await spawnChild(`loadgen:${s.id}:${targetId}`, [BUN, "bench/loadgen.ts", JSON.stringify(spec)], {
      cpu: pinLoad, cwd: ROOT, limitS: (spec.deadlineMs ?? 60_000) / 1000 + 15, keepStdout: true,
    });
    const code = await lg.exited;
    const out = (await lg.stdoutText()).trim().split("\n").pop() ?? "";
    let r: LoadResult;
    try {
      r = JSON.parse(out);
    } catch {
      r = { ok: false, error: `load generator exited ${code} without a result: ${lg.stderr().slice(-600)}` };
    }
    const dead = started.servers.filter((c) => c.proc.exitCode !== null);
    if (dead.length) r = { ...r, ok: false, error: `${dead[0].name} died (exit ${dead[0].proc.exitCode}): ${firstError(dead[0].stderr())} — load generator: ${r.error ?? ""}`.trim() };
    Object.assign(row, r);
  } catch (e) {
    Object.assign(row, { ok: false, error: (e as Error).message });
  } finally {
    await started?.stop();
  }
  const main = row[s.primary.key];
  if (probe) return row;
  emit(row);
  record(row);
  log(`${s.id} ${targetId} #${rep}: ${row.ok ? `${s.primary.label} ${main}` : `FAILED ${String(row.error).slice(0, 300)}`}`);
  return row;
}

/**
 * Per runtime, the client count at which its raw baseline's server CPU % falls within
 * `s.sizeByRawCpu.cpu` (up to three probe runs, each scaling the count by how far off it was).
 * A runtime whose baseline is not among the targets keeps the scenario's count.
 */
async function sizeByRawCpu(s: Scenario): Promise<Map<string, Partial<LoadSpec>>> {
  const sizes = new Map<string, Partial<LoadSpec>>();
  const [lo, hi] = s.sizeByRawCpu!.cpu;
  const perRoom = (s.spec.clients ?? 1000) / (s.spec.rooms ?? 100);
  for (const t of s.targets.filter((t) => TARGETS[t].kind === "baseline" && RUNTIME_BASELINES[TARGETS[t].runtime][0] === t)) {
    let clients = s.spec.clients ?? 1000;
    for (let i = 1; i <= 3; i++) {
      const row = await runOnce(s, t, 0, { clients, rooms: clients / perRoom }, true);
      const cpu = Number(row.server_cpu_pct);
      log(`${s.id} sizing ${t}: ${clients} clients → server CPU ${row.ok ? `${cpu} %` : `failed: ${String(row.error).slice(0, 200)}`}`);
      if (!row.ok || !(cpu > 0) || (cpu >= lo && cpu <= hi) || i === 3) break;
      clients = Math.max(perRoom, Math.min(5000, Math.round((clients * (lo + hi)) / 2 / cpu / perRoom) * perRoom));
    }
    sizes.set(TARGETS[t].runtime, { clients, rooms: clients / perRoom });
  }
  return sizes;
}

if (reportFrom) {
  for (const row of saved) if (row.type === "result") {
    record(row);
    emit(row);
  }
  scenarios = scenarios
    .map((s) => ({ ...s, targets: s.targets.filter((t) => results.get(s.id)?.has(t)) }))
    .filter((s) => s.targets.length > 0);
} else {
  buildFor([...new Set(scenarios.flatMap((s) => s.targets))], log);
  for (const s of scenarios) {
    log(`scenario ${s.id}: ${s.targets.join(", ")} × ${s.reps}`);
    const sizes = s.sizeByRawCpu ? await sizeByRawCpu(s) : new Map<string, Partial<LoadSpec>>();
    for (let rep = 1; rep <= s.reps; rep++) {
      for (const t of s.targets) await runOnce(s, t, rep, sizes.get(TARGETS[t].runtime));
    }
  }
}

// ---- medians, ratios, checks ----------------------------------------------------------------

const summaries: Summary[] = [];
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const medianOf = (scenario: string, target: string, key: string): number | undefined => {
  const rows = results.get(scenario)?.get(target)?.filter((r) => r.ok);
  if (!rows?.length) return undefined;
  const v = median(rows.map((r) => r[key]).filter(isNum));
  return Number.isFinite(v) ? v : undefined;
};

for (const s of scenarios) {
  const present = new Set(s.targets);
  for (const t of s.targets) {
    const rows = results.get(s.id)?.get(t) ?? [];
    const ok = rows.filter((r) => r.ok);
    const def = TARGETS[t];
    const keys = [s.primary, ...s.columns].map((c) => c.key);
    const sum: Summary = { type: "summary", scenario: s.id, target: t, label: def.label, kind: def.kind, runtime: def.runtime, runs: rows.length, ok_runs: ok.length };
    for (const k of keys) {
      const vals = ok.map((r) => r[k]).filter(isNum);
      if (!vals.length) continue;
      const [lo, hi] = range(vals);
      sum[k] = sig(median(vals));
      sum[`${k}_min`] = sig(lo);
      sum[`${k}_max`] = sig(hi);
    }
    if (!ok.length) sum.error = String(rows.find((r) => r.error)?.error ?? "no run");
    const baseline = def.kind === "baseline" ? undefined : RUNTIME_BASELINES[def.runtime].find((b) => present.has(b) && b !== t);
    const p = medianOf(s.id, t, s.primary.key);
    if (baseline) {
      const b = medianOf(s.id, baseline, s.primary.key);
      sum.baseline = baseline;
      if (p !== undefined && b) sum.ratio_to_baseline = sig(p / b, 3);
    }
    const sio = present.has("socketio") ? "socketio" : present.has("socketio-cluster") ? "socketio-cluster" : undefined;
    if (sio && sio !== t) {
      const b = medianOf(s.id, sio, s.primary.key);
      if (p !== undefined && b) sum.ratio_to_socketio = sig(p / b, 3);
    }
    summaries.push(sum);
    emit(sum);
  }
}

const checks = CHECKS.filter((c) => mode !== "quick" || c.limit).map((c) => {
  const r = c.eval(medianOf);
  const o = { type: "check", id: c.id, text: c.text, need: c.need, value: r ? sig(r.value, 4) : null, shown: r?.shown ?? "n/a", pass: r ? r.pass : null };
  emit(o);
  return o;
});

const durationS = reportFrom ? Number(saved.find((l) => l.type === "done")?.duration_s ?? 0) : (performance.now() - T0) / 1000;
const foreign = [...results.values()].flatMap((m) => [...m.values()].flat()).map((r) => r.foreign_cpu_pct).filter(isNum);
emit({ type: "done", duration_s: sig(durationS, 3), passed: checks.filter((c) => c.pass === true).length, failed: checks.filter((c) => c.pass === false).length, not_measured: checks.filter((c) => c.pass === null).length });

if (outPath) {
  mkdirSync(dirname(outPath), { recursive: true });
  const analysisPath = resolve(ROOT, "bench/ANALYSIS.md");
  const analysis = existsSync(analysisPath) ? readFileSync(analysisPath, "utf8") : undefined;
  writeFileSync(outPath, renderReport({ meta, scenarios, summaries, checks, durationS, results, foreignCpu: foreign, analysis }));
  const jsonl = outPath.replace(/\.md$/, "") + ".jsonl";
  if (resolve(jsonl) !== resolve(reportFrom ?? "")) writeFileSync(jsonl, `${emitted.join("\n")}\n`);
  log(`wrote ${outPath} and ${jsonl}`);
}
await stopAll();
// Last, for people: the verdict on every target (stdout stays JSON lines).
process.stderr.write(`\n${verdictTable(checks).join("\n")}\n`);
process.exit(mode === "quick" && checks.some((c) => c.pass === false) ? 1 : 0);
