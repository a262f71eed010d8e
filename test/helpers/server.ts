/**
 * Starts the real server as a child process on a free port (PORT=0; the port is read from the
 * "listening" log line) for one runtime, and stops it.
 */
import { spawn, type Subprocess } from "bun";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ensureNodeBundle } from "./build.ts";

export const ROOT = resolve(import.meta.dir, "../..");
export const BIN = (name: string) => resolve(ROOT, "node_modules/.bin", name);

/** The runtimes the conformance suite runs against. */
export type Runtime = "bun" | "deno" | "node";
export const RUNTIMES: Runtime[] = (process.env.GRAPHWIZ_RUNTIMES?.split(",") as Runtime[]) ?? ["bun", "deno", "node"];

/**
 * Exactly what `deno task start` runs (read from deno.json, so the tests use the task's
 * permissions and nothing more), with `deno` taken from node_modules.
 */
export function denoStartCommand(): string[] {
  const task: string = JSON.parse(readFileSync(resolve(ROOT, "deno.json"), "utf8")).tasks.start;
  const [deno, ...args] = task.trim().split(/\s+/);
  return [deno.includes("/") ? resolve(ROOT, deno) : BIN("deno"), ...args];
}

/** The command that runs the server on `runtime`. */
export async function serverCommand(runtime: Runtime | "binary", binary?: string): Promise<string[]> {
  switch (runtime) {
    case "bun":
      return [BIN("bun"), "--no-env-file", "adapters/bun.ts"];
    case "deno":
      return denoStartCommand();
    case "node":
      return ["node", await ensureNodeBundle()];
    case "binary":
      return [binary!];
  }
}

/**
 * Spawns `cmd` with only PATH and HOME from this process, plus `env` (PORT=0 and HOST=127.0.0.1
 * unless given, so nothing ever binds a fixed port or a public address), output piped.
 */
export function spawnServer(cmd: string[], env: Record<string, string> = {}, cwd = ROOT): Subprocess<"ignore", "pipe", "pipe"> {
  return spawn(cmd, {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", PORT: "0", HOST: "127.0.0.1", ...env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
}

export interface RunningServer {
  runtime: string;
  port: number;
  http: string;
  ws: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Every stdout line so far (JSON log lines). */
  lines: string[];
  stderr: () => string;
  /** Sends a signal and waits for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
  exited: Promise<number>;
}

/** Starts a server and resolves once it listens. */
export async function startServer(
  runtime: Runtime | "binary",
  env: Record<string, string> = {},
  opts: { binary?: string; cwd?: string; timeoutMs?: number; command?: string[] } = {},
): Promise<RunningServer> {
  const cmd = opts.command ?? (await serverCommand(runtime, opts.binary));
  const proc = spawnServer(cmd, env, opts.cwd);
  const lines: string[] = [];
  let err = "";
  const errRead = (async () => {
    for await (const chunk of proc.stderr) err += new TextDecoder().decode(chunk);
  })();
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`${runtime} server did not start: ${err}`)), opts.timeoutMs ?? 20_000);
    // The exit can be seen before the last of stderr is read (seen under load: "exited 2: "
    // with the one-line reason missing): report once the pipe is drained.
    proc.exited.then(async (code) => {
      await Promise.race([errRead, new Promise((r) => setTimeout(r, 2000))]);
      reject(new Error(`${runtime} server exited ${code}: ${err}`));
    });
    (async () => {
      let buf = "";
      for await (const chunk of proc.stdout) {
        buf += new TextDecoder().decode(chunk);
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          lines.push(line);
          try {
            const obj = JSON.parse(line);
            if (obj.event === "listening") {
              clearTimeout(timer);
              resolvePort(obj.port);
            }
          } catch {}
        }
      }
    })();
  });
  const http = `http://127.0.0.1:${port}`;
  return {
    runtime,
    port,
    http,
    ws: `ws://127.0.0.1:${port}`,
    proc,
    lines,
    stderr: () => err,
    exited: proc.exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
  };
}
