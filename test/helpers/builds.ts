/**
 * The four builds an operator runs — Bun, Deno, the Node bundle and the compiled binary — as
 * commands to execute once (for --help, --check-config, start-up failures) and see what they
 * print and how they exit.
 */
import { ensureBinary } from "./build.ts";
import { RUNTIMES, serverCommand, spawnServer, startServer, type RunningServer, type Runtime } from "./server.ts";

/** A build: a runtime, or the single executable. */
export type Build = Runtime | "binary";
/** Every build, narrowed by GRAPHWIZ_RUNTIMES for the runtimes (the binary is always included). */
export const BUILDS: Build[] = [...RUNTIMES, "binary"];

/** Starts the server of `build` (the binary as `npm run compile` built it) and resolves once it listens. */
export async function startBuild(build: Build, env: Record<string, string> = {}): Promise<RunningServer> {
  return startServer(build, env, build === "binary" ? { binary: await ensureBinary() } : {});
}

/** The command that runs `build`, with `args` after it. */
export async function buildCommand(build: Build, args: string[] = []): Promise<string[]> {
  const base = build === "binary" ? [await ensureBinary()] : await serverCommand(build);
  return [...base, ...args];
}

/** What a run printed and how it ended. */
export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Non-empty lines of standard error. */
  errLines: string[];
}

/** Runs `cmd` to its end (killed after `timeoutMs`) in the environment of {@link spawnServer}. */
export async function runToEnd(cmd: string[], env: Record<string, string> = {}, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Outcome> {
  const proc = spawnServer(cmd, env, opts.cwd);
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr, errLines: stderr.split("\n").filter((l) => l.trim() !== "") };
}

/** Runs `build` with `args` and `env` to its end. */
export async function runBuild(build: Build, args: string[], env: Record<string, string> = {}, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Outcome> {
  return runToEnd(await buildCommand(build, args), env, opts);
}

/** Runs `tasks` with at most `limit` at a time (the machine has 2 cores shared with others). */
export async function limited<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  }));
  return out;
}

/** True when the text looks like a stack trace or a raw runtime error dump. */
export function looksLikeTrace(text: string): boolean {
  return /^\s+at\s|\bat .*:\d+:\d+\)?$|node:internal|error: Uncaught|\^\s*$|MODULE_NOT_FOUND|Bun v\d/m.test(text);
}
