/**
 * A private redis-server for tests: its own free port on 127.0.0.1, no persistence, a temp
 * dir; stop and start again on the same port (outage tests). Never touches the shared Redis
 * on 6379. Needs `redis-server` (/usr/bin/redis-server, on PATH, or REDIS_SERVER_BIN).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where redis-server is, or a clear error saying how to get it. */
export function redisServerBinary(): string {
  const env = process.env.REDIS_SERVER_BIN;
  if (env) {
    if (!existsSync(env)) throw new Error(`REDIS_SERVER_BIN=${env} does not exist`);
    return env;
  }
  if (existsSync("/usr/bin/redis-server")) return "/usr/bin/redis-server";
  const which = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  const found = which.stdout?.trim();
  if (which.status === 0 && found) return found;
  throw new Error(
    "redis-server not found (looked at /usr/bin/redis-server and PATH). The Redis cluster tests start their own " +
      "redis-server: install it (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`) " +
      "or set REDIS_SERVER_BIN to its path.",
  );
}

/** A free TCP port on 127.0.0.1 (never 6379). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once("error", reject);
      srv.listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    if (port !== 6379) return port;
  }
}

/** Sends one inline command and resolves with the raw reply text (enough for PING/SHUTDOWN checks). */
function rawCommand(port: number, line: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ port, host: "127.0.0.1" });
    let buf = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error("timeout"));
    }, timeoutMs);
    sock.on("connect", () => sock.write(`${line}\r\n`));
    sock.on("data", (d) => {
      buf += d.toString();
      if (buf.includes("\r\n")) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf);
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export interface TestRedis {
  port: number;
  url: string;
  /** Whether the server process is running. */
  readonly running: boolean;
  /** Stops the server (SIGKILL by default: an abrupt outage; "term" for a clean one). */
  stop(how?: "kill" | "term"): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  start(): Promise<void>;
  /** Stops for good and removes the temp dir. */
  close(): Promise<void>;
}

/** Starts a private redis-server and resolves once it answers PING. */
export async function startRedis(): Promise<TestRedis> {
  const bin = redisServerBinary();
  const dir = mkdtempSync(join(tmpdir(), "graphwiz-redis-"));
  const port = await freePort();
  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let stderr = "";

  const start = async () => {
    if (proc) return;
    stderr = "";
    const p = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "no", "--loglevel", "warning"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    proc = p;
    const killOnExit = () => p.kill("SIGKILL"); // never leave a server behind if the test process dies
    process.once("exit", killOnExit);
    p.once("exit", () => process.off("exit", killOnExit));
    p.stderr?.on("data", (d) => (stderr += d.toString()));
    exited = new Promise((resolve) => p.once("exit", () => resolve()));
    exited.then(() => {
      if (proc === p) proc = null;
    });
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        if ((await rawCommand(port, "PING")).startsWith("+PONG")) return;
      } catch {
        // not up yet
      }
      if (proc !== p) throw new Error(`redis-server exited at start on port ${port}: ${stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 5 s: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const stop = async (how: "kill" | "term" = "kill") => {
    const p = proc;
    if (!p) return;
    p.kill(how === "kill" ? "SIGKILL" : "SIGTERM");
    await exited;
    proc = null;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return proc !== null;
    },
    stop,
    start,
    async close() {
      await stop("kill");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
