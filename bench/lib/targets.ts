/**
 * The servers the benchmark compares: ours on each runtime and as a compiled binary, the raw
 * baselines (bench/baselines/), and Socket.IO; how to build and start each one.
 * @module
 */
import { spawnSync } from "bun";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { freePort, spawnChild, stopChild, waitListening, type Child } from "./procs.ts";
import type { Dialect } from "./wsclient.ts";

export const ROOT = resolve(import.meta.dir, "../..");
/** Where our server's sources are (default: this checkout; `--server-root` for another). */
let SERVER_ROOT = ROOT;
export function setServerRoot(path: string): void {
  SERVER_ROOT = path;
  nodeBundle = resolve(SERVER_ROOT, "dist/graphwiz-ws.mjs");
  binary = resolve(SERVER_ROOT, "dist/graphwiz-ws");
}
export const serverRoot = () => SERVER_ROOT;
export const BUN = process.execPath;
export const DENO = resolve(ROOT, "node_modules/.bin/deno");
export const NODE = "node";

export type Runtime = "bun" | "node" | "deno";
export type Kind = "ours" | "baseline" | "peer";

export interface TargetDef {
  id: string;
  label: string;
  kind: Kind;
  runtime: Runtime;
  dialect: Dialect;
  /** The command of one instance. */
  cmd: () => string[];
  /** Extra env (besides PORT/HOST and the common features env). */
  env?: Record<string, string>;
  needs?: "node-bundle" | "binary";
  /** Two instances sharing a private Redis (cluster scenario). */
  cluster?: boolean;
  /** In no scenario's list: runs only when named with `--targets` (comparison variants). */
  extra?: boolean;
}

let nodeBundle = resolve(ROOT, "dist/graphwiz-ws.mjs");

/** Exactly what `deno task start` runs (deno.json of the server under test), with this checkout's deno. */
function denoTask(): string[] {
  const task: string = JSON.parse(readFileSync(resolve(SERVER_ROOT, "deno.json"), "utf8")).tasks.start;
  const [, ...args] = task.trim().split(/\s+/);
  return [DENO, ...args];
}
let binary = resolve(ROOT, "dist/graphwiz-ws");

export const TARGETS: Record<string, TargetDef> = {
  "gw-bun": { id: "gw-bun", label: "graphwiz-ws on Bun", kind: "ours", runtime: "bun", dialect: "gw", cmd: () => [BUN, "adapters/bun.ts"] },
  "gw-node": { id: "gw-node", label: "graphwiz-ws on Node", kind: "ours", runtime: "node", dialect: "gw", needs: "node-bundle", cmd: () => [NODE, nodeBundle] },
  "gw-deno": {
    id: "gw-deno", label: "graphwiz-ws on Deno", kind: "ours", runtime: "deno", dialect: "gw",
    cmd: denoTask,
  },
  "gw-binary": { id: "gw-binary", label: "graphwiz-ws compiled binary", kind: "ours", runtime: "bun", dialect: "gw", needs: "binary", cmd: () => [binary] },
  "raw-bun-publish": { id: "raw-bun-publish", label: "raw Bun.serve native publish", kind: "baseline", runtime: "bun", dialect: "raw", cmd: () => [BUN, "bench/baselines/bun-publish.ts"] },
  "raw-node-ws": { id: "raw-node-ws", label: "raw Node ws, JS loop", kind: "baseline", runtime: "node", dialect: "raw", cmd: () => [NODE, "bench/baselines/node-ws.mjs", "naive"] },
  "raw-node-ws-corked": { id: "raw-node-ws-corked", label: "raw Node ws, corked", kind: "baseline", runtime: "node", dialect: "raw", cmd: () => [NODE, "bench/baselines/node-ws.mjs", "corked"] },
  "raw-node-preframed": { id: "raw-node-preframed", label: "raw Node ws, pre-framed", kind: "baseline", runtime: "node", dialect: "raw", cmd: () => [NODE, "bench/baselines/node-ws.mjs", "preframed"] },
  "raw-deno-preframed": {
    id: "raw-deno-preframed", label: "raw Deno node:http + ws, pre-framed", kind: "baseline", runtime: "deno", dialect: "raw",
    cmd: () => [DENO, "run", "--allow-net", "--allow-env", "--allow-read", "bench/baselines/node-ws.mjs", "preframed"],
  },
  "raw-deno-loop": {
    id: "raw-deno-loop", label: "raw Deno.serve, JS loop", kind: "baseline", runtime: "deno", dialect: "raw",
    cmd: () => [DENO, "run", "--allow-net", "--allow-env", "--allow-read", "bench/baselines/deno-loop.ts"],
  },
  "gw-node-hono-ws": {
    id: "gw-node-hono-ws", label: "graphwiz-ws on Node with @hono/node-ws", kind: "ours", runtime: "node", dialect: "gw", extra: true,
    cmd: () => [NODE, resolve(ROOT, ".bench-tmp/node-hono-ws.mjs")],
  },
  socketio: { id: "socketio", label: "Socket.IO 4 (Node, in-memory)", kind: "peer", runtime: "node", dialect: "sio", cmd: () => [NODE, "bench/baselines/socketio.mjs"] },
  "gw-bun-cluster": {
    id: "gw-bun-cluster", label: "graphwiz-ws on Bun ×2 + Redis", kind: "ours", runtime: "bun", dialect: "gw", cluster: true,
    cmd: () => [BUN, "adapters/bun.ts"],
  },
  "socketio-cluster": {
    id: "socketio-cluster", label: "Socket.IO ×2 + redis-adapter", kind: "peer", runtime: "node", dialect: "sio", cluster: true,
    cmd: () => [NODE, "bench/baselines/socketio.mjs"],
  },
};

/** The baseline a target's ratio is taken against, by runtime, first one present wins. */
export const RUNTIME_BASELINES: Record<Runtime, string[]> = {
  bun: ["raw-bun-publish"],
  node: ["raw-node-preframed", "raw-node-ws-corked", "raw-node-ws"],
  deno: ["raw-deno-preframed", "raw-deno-loop"],
};

/** The environment our server gets: the default features, with limits raised for the load. */
export function featureEnv(jwtSecret: string): Record<string, string> {
  return {
    JWT_SECRET: jwtSecret,
    RATE_LIMIT_MESSAGES: "10000000",
    GLOBAL_RATE_LIMIT_MESSAGES: "100000000",
    CONNECT_RATE_LIMIT: "0",
    MAX_ROOM_CONNECTIONS: "100000",
    MAX_CONNECTIONS: "200000",
    // Acknowledging clients (scenario 1r) ACK every 32 messages: no resend within a run.
    ACK_TIMEOUT_MS: "600000",
    // The fan-out scenarios measure the per-message relay: their 101-member rooms stay out of
    // batch mode (issue 19; bench/bigroom.ts measures batch mode).
    INTEREST_MIN_ROOM_SIZE: "0",
  };
}

function scriptWithOutfile(script: string, from: string, to: string): string | undefined {
  return script.includes(`--outfile=${from}`) ? script.replace(`--outfile=${from}`, `--outfile=${to}`)
    : script.includes(`--outfile ${from}`) ? script.replace(`--outfile ${from}`, `--outfile ${to}`) : undefined;
}

function runScript(name: string, script: string): void {
  const r = spawnSync(["sh", "-c", script], {
    cwd: SERVER_ROOT,
    env: { ...process.env, PATH: `${resolve(SERVER_ROOT, "node_modules/.bin")}:${resolve(ROOT, "node_modules/.bin")}:${process.env.PATH}` },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`${name} failed: ${r.stderr.toString().slice(-2000)}`);
}

/**
 * Builds what the targets need with the package's own `build` / `compile` scripts, written to
 * .bench-tmp/ instead of dist/ so a benchmark never races a test run that builds dist/.
 */
export function buildFor(ids: string[], log: (s: string) => void): void {
  const needs = new Set(ids.map((id) => TARGETS[id]?.needs).filter(Boolean));
  if (needs.size === 0) return;
  mkdirSync(resolve(SERVER_ROOT, ".bench-tmp"), { recursive: true });
  const scripts = JSON.parse(readFileSync(resolve(SERVER_ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
  if (needs.has("node-bundle")) {
    const s = scriptWithOutfile(scripts.build, "dist/graphwiz-ws.mjs", ".bench-tmp/graphwiz-ws.mjs");
    log(`building the Node bundle (${s ? "npm run build → .bench-tmp/" : "npm run build"})`);
    runScript("npm run build", s ?? "npm run -s build");
    nodeBundle = resolve(SERVER_ROOT, s ? ".bench-tmp/graphwiz-ws.mjs" : "dist/graphwiz-ws.mjs");
  }
  if (needs.has("binary")) {
    const s = scriptWithOutfile(scripts.compile, "dist/graphwiz-ws", ".bench-tmp/graphwiz-ws");
    log(`compiling the binary (${s ? "npm run compile → .bench-tmp/" : "npm run compile"})`);
    runScript("npm run compile", s ?? "npm run -s compile");
    binary = resolve(SERVER_ROOT, s ? ".bench-tmp/graphwiz-ws" : "dist/graphwiz-ws");
    if (!existsSync(binary)) throw new Error(`compiled binary missing at ${binary}`);
  }
}

/** When set, our server on Bun/Node writes a V8/JSC CPU profile (`--cpu-prof`) into this folder. */
let cpuProfDir: string | undefined;
export function setCpuProfDir(dir: string): void {
  cpuProfDir = dir;
  mkdirSync(dir, { recursive: true });
}
function withProfiler(def: TargetDef, cmd: string[]): string[] {
  if (!cpuProfDir || def.kind !== "ours" || def.id === "gw-binary" || def.runtime === "deno") return cmd;
  return [cmd[0], "--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`, ...cmd.slice(1)];
}

/** A started target: its instances (one, or two for a cluster) and their ports. */
export interface Started {
  def: TargetDef;
  servers: Child[];
  ports: number[];
  redis?: Child;
  stop(): Promise<void>;
}

/** Starts a private redis-server on a free port (never the shared one on 6379). */
async function startRedis(limitS: number, cpu?: string): Promise<{ child: Child; url: string }> {
  for (let attempt = 0; ; attempt++) {
    const port = freePort();
    if (port === 6379) continue;
    const child = await spawnChild("redis-server", ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      cpu, cwd: ROOT, limitS,
    });
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline) {
      if (child.lines.some((l) => /Ready to accept connections/i.test(l))) return { child, url: `redis://127.0.0.1:${port}` };
      if (child.proc.exitCode !== null) break;
      await Bun.sleep(10);
    }
    await stopChild(child, 200);
    if (attempt >= 3) throw new Error(`redis-server did not start: ${child.lines.slice(-5).join(" | ")} ${child.stderr().slice(-500)}`);
  }
}

/** Starts a target pinned to `cpu` (servers and Redis share it; the load generator has the other core). */
export async function startTarget(def: TargetDef, jwtSecret: string, limitS: number, cpu?: string): Promise<Started> {
  const base: Record<string, string> = { PORT: "0", HOST: "127.0.0.1", JWT_SECRET: jwtSecret };
  const env = def.kind === "ours" ? { ...base, ...featureEnv(jwtSecret) } : base;
  let redis: { child: Child; url: string } | undefined;
  if (def.cluster) redis = await startRedis(limitS, cpu);
  const servers: Child[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => stopChild(s)));
    if (redis) await stopChild(redis.child, 500);
  };
  try {
    const n = def.cluster ? 2 : 1;
    for (let i = 0; i < n; i++) {
      servers.push(await spawnChild(`${def.id}#${i}`, withProfiler(def, def.cmd()), {
        cpu, cwd: def.kind === "ours" ? SERVER_ROOT : ROOT, limitS, env: { ...env, ...def.env, ...(redis ? { REDIS_URL: redis.url } : {}) },
      }));
    }
    const ports = await Promise.all(servers.map((s) => waitListening(s)));
    return { def, servers, ports, redis: redis?.child, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
