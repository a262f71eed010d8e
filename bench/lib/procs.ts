/**
 * Child processes of the runner: spawned pinned to a core (`taskset`), wrapped in
 * `timeout -s KILL` so that each one stops by itself even if the runner is killed with
 * SIGKILL, tracked, and killed on every exit path of the runner (normal end, error, Ctrl-C).
 * @module
 */
import { spawn, spawnSync, type Subprocess } from "bun";
import { childrenOf } from "./proc.ts";

const has = (bin: string) => spawnSync(["sh", "-c", `command -v ${bin}`], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
export const HAVE_TASKSET = has("taskset");
const HAVE_TIMEOUT = has("timeout");

/** A running child. */
export interface Child {
  name: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** The real process (inside `timeout`/`taskset`), for /proc sampling and signals. */
  pid: number;
  /** The last stdout lines (kept bounded) and the stderr text. */
  lines: string[];
  lineCount: number;
  stderr(): string;
  stdoutText(): Promise<string>;
  exited: Promise<number>;
}

const live = new Set<Child>();

/** Put in every child's environment, so a test can find any child left behind. */
export const RUN_ID = process.env.BENCH_RUN_ID || crypto.randomUUID();

export interface SpawnOptions {
  /** Core to pin to ("0", "1"); undefined = not pinned. */
  cpu?: string;
  env?: Record<string, string>;
  cwd: string;
  /** Hard lifetime limit in seconds. */
  limitS: number;
  /** Keep the whole stdout (the load generator's result); otherwise only the last lines. */
  keepStdout?: boolean;
}

/** Spawns `cmd` pinned and time-limited. */
export async function spawnChild(name: string, cmd: string[], o: SpawnOptions): Promise<Child> {
  const full = [
    ...(HAVE_TIMEOUT ? ["timeout", "-s", "KILL", String(Math.ceil(o.limitS))] : []),
    ...(o.cpu !== undefined && HAVE_TASKSET ? ["taskset", "-c", o.cpu] : []),
    ...cmd,
  ];
  const proc = spawn(full, {
    cwd: o.cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...o.env, BENCH_RUN_ID: RUN_ID },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let pid = proc.pid;
  if (HAVE_TIMEOUT) {
    // `timeout` forks the command; `taskset` execs it, so timeout's one child is the real process.
    for (let i = 0; i < 200; i++) {
      const kids = childrenOf(proc.pid);
      if (kids.length > 0) {
        pid = kids[0];
        break;
      }
      if (proc.exitCode !== null) break;
      await Bun.sleep(5);
    }
  }
  let err = "";
  let out = "";
  const lines: string[] = [];
  const child: Child = {
    name,
    proc,
    pid,
    lines,
    lineCount: 0,
    stderr: () => err,
    stdoutText: async () => {
      await outDone;
      return out;
    },
    exited: proc.exited,
  };
  (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr) {
      err += dec.decode(chunk, { stream: true });
      if (err.length > 200_000) err = err.slice(-100_000);
    }
  })();
  const outDone = (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout) {
      const s = dec.decode(chunk, { stream: true });
      if (o.keepStdout) out += s;
      buf += s;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        lines.push(buf.slice(0, i));
        child.lineCount++;
        if (lines.length > 400) lines.splice(0, 200);
        buf = buf.slice(i + 1);
      }
    }
  })();
  live.add(child);
  proc.exited.then(() => live.delete(child));
  return child;
}

/** Waits for a `{"event":"listening","port":N}` line; returns N. */
export async function waitListening(c: Child, timeoutMs = 30_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let seen = 0;
  for (;;) {
    for (; seen < c.lines.length; seen++) {
      const line = c.lines[seen];
      if (!line.includes('"listening"')) continue;
      try {
        const o = JSON.parse(line);
        if (o.event === "listening" && typeof o.port === "number") return o.port;
      } catch {}
    }
    if (c.proc.exitCode !== null) throw new Error(`${c.name} exited ${c.proc.exitCode} before listening: ${c.stderr().slice(-800)}`);
    if (performance.now() > deadline) throw new Error(`${c.name} did not print a listening line in ${timeoutMs} ms: ${c.stderr().slice(-800)}`);
    await Bun.sleep(10);
  }
}

function signal(c: Child, sig: NodeJS.Signals): void {
  try {
    process.kill(c.pid, sig);
  } catch {}
  if (c.pid !== c.proc.pid) {
    try {
      c.proc.kill(sig);
    } catch {}
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopChild(c: Child, graceMs = 1500): Promise<void> {
  if (c.proc.exitCode !== null) return;
  signal(c, "SIGTERM");
  const t = setTimeout(() => signal(c, "SIGKILL"), graceMs);
  await c.proc.exited;
  clearTimeout(t);
  // `timeout` has exited; make sure the real process has too.
  try {
    process.kill(c.pid, "SIGKILL");
  } catch {}
}

/** Kills every live child at once (exit paths). */
export function killAllNow(): void {
  for (const c of live) signal(c, "SIGKILL");
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => stopChild(c, 500)));
}

let installed = false;
/** Kills every child on exit, Ctrl-C, SIGTERM and uncaught errors. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on("exit", killAllNow);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping every child process\n`);
      killAllNow();
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
  process.on("uncaughtException", (e) => {
    process.stderr.write(`bench: uncaught ${e.stack ?? e}\n`);
    killAllNow();
    process.exit(1);
  });
  process.on("unhandledRejection", (e) => {
    process.stderr.write(`bench: unhandled rejection ${(e as Error)?.stack ?? e}\n`);
    killAllNow();
    process.exit(1);
  });
}

/** A free TCP port on 127.0.0.1 (bind to 0, read, close). */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = l.port;
  l.stop(true);
  return p;
}
