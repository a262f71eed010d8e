/**
 * The `bigroom` scenario (issue 19): N avatars random-walking at 20 Hz in one room, the server
 * pinned to core 0 and the load generator (bench/bigroom-load.ts) to core 1. Modes: `batch`
 * (batch clients, interest management: the default settings) and `relay` (today's per-message
 * path: INTEREST_MIN_ROOM_SIZE=0). Appends one line per run to bench/BIGROOM.jsonl; a run during
 * which other processes kept more than 25 % of a core busy is marked `discard`.
 *
 *     bun bench/bigroom.ts --n 1000 --mode batch --runtime bun --secs 15
 * @module
 */
import { appendFileSync } from "node:fs";
import { resolve } from "node:path";
import { spawnSync } from "bun";
import { CpuWindow, loadAvg, machine, rssKiB } from "./lib/proc.ts";
import { freePort, installCleanup, spawnChild, stopAll, waitListening } from "./lib/procs.ts";

const ROOT = resolve(import.meta.dir, "..");
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const n = Number(arg("n", "1000"));
const mode = arg("mode", "batch");
const runtime = arg("runtime", "bun");
const secs = Number(arg("secs", "15"));
const warmS = Number(arg("warm", "5"));
const BUN = process.execPath;
installCleanup();

if (runtime === "node") {
  const r = spawnSync(["npm", "run", "-s", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
}
const port = freePort();
const env: Record<string, string> = {
  PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn",
  RATE_LIMIT_MESSAGES: "10000000", GLOBAL_RATE_LIMIT_MESSAGES: "100000000", CONNECT_RATE_LIMIT: "0",
  MAX_ROOM_CONNECTIONS: "100000", MAX_CONNECTIONS: "200000", MAX_MESSAGE_BYTES: "1048576",
  INTEREST_MIN_ROOM_SIZE: mode === "relay" ? "0" : arg("min", "50"),
};
const cmd = runtime === "node" ? ["node", "dist/graphwiz-ws.mjs"] : [BUN, "--no-env-file", "adapters/bun.ts"];
const server = await spawnChild("server", cmd, { cpu: "0", env: { ...env, LOG_LEVEL: "info" }, cwd: ROOT, limitS: secs + warmS + 240 });
await waitListening(server, 30_000);
const load = await spawnChild("load", [BUN, "bench/bigroom-load.ts", JSON.stringify({ port, n, batch: mode === "batch", warmS, secs })], {
  cpu: "1", cwd: ROOT, limitS: secs + warmS + 200, keepStdout: true,
});
// The window opens when the load generator starts measuring.
let win: CpuWindow | undefined;
let load0 = 0;
for (let i = 0; i < 180_000 / 20 && !win; i++) {
  if (load.lines.some((l) => l.includes('"measuring"'))) {
    win = new CpuWindow([server.pid, load.pid]);
    load0 = loadAvg();
  } else if (load.proc.exitCode !== null) break;
  else await Bun.sleep(20);
}
let rssPeak = 0;
const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, rssKiB(server.pid))), 500);
let cpu: ReturnType<CpuWindow["read"]> | undefined;
while (win && load.proc.exitCode === null) {
  if (load.lines.some((l) => l.includes('"stop"'))) {
    cpu = win.read();
    break;
  }
  await Bun.sleep(10);
}
await load.exited;
clearInterval(rssTimer);
const out = (await load.stdoutText()).split("\n").find((l) => l.includes('"result"'));
await stopAll();
if (!out || !cpu) {
  console.error(`no result: ${load.stderr().slice(-2000)} ${server.stderr().slice(-1000)}`);
  process.exit(1);
}
const res = JSON.parse(out);
const cores = machine().cores;
const otherPct = (cpu.machineBusyPct * cores) - cpu.cpuPct[0] - cpu.cpuPct[1];
const row = {
  date: new Date().toISOString(), commit: spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT }).stdout.toString().trim(),
  runtime, mode, ...res,
  serverCpuPct: cpu.cpuPct[0], loadgenCpuPct: cpu.cpuPct[1], rssMB: rssPeak / 1024,
  otherCpuPct: otherPct, loadAvg1: load0, discard: otherPct > 25,
};
appendFileSync(resolve(ROOT, "bench/BIGROOM.jsonl"), JSON.stringify(row) + "\n");
console.log(JSON.stringify(row));
process.exit(0);
