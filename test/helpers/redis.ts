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

/** Where a Redis program is (`redis-server`, `redis-cli`), or a clear error saying how to get it. */
function redisBinary(name: "redis-server" | "redis-cli", envVar: string): string {
  const env = process.env[envVar];
  if (env) {
    if (!existsSync(env)) throw new Error(`${envVar}=${env} does not exist`);
    return env;
  }
  if (existsSync(`/usr/bin/${name}`)) return `/usr/bin/${name}`;
  const which = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const found = which.stdout?.trim();
  if (which.status === 0 && found) return found;
  throw new Error(
    `${name} not found (looked at /usr/bin/${name} and PATH). The Redis cluster tests start their own ` +
      "redis-server (and build Redis Clusters with redis-cli): install Redis ≥ 7 (Debian/Ubuntu: `apt-get install redis-server`, " +
      `macOS: \`brew install redis\`) or set ${envVar} to its path.`,
  );
}

/** Where redis-server is (REDIS_SERVER_BIN, /usr/bin, PATH). */
export function redisServerBinary(): string {
  return redisBinary("redis-server", "REDIS_SERVER_BIN");
}

/** Where redis-cli is (REDIS_CLI_BIN, /usr/bin, PATH). */
export function redisCliBinary(): string {
  return redisBinary("redis-cli", "REDIS_CLI_BIN");
}

/** A free TCP port on 127.0.0.1 (never 6379). */
export async function freePort(): Promise<number> {
  // The kernel may hand a port closed a moment ago to the next caller: a Redis and a Redis
  // Cluster started side by side once got the same one (the cluster's node was the plain Redis).
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once("error", reject);
      srv.listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    if (port !== 6379 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}
/** Every port {@link freePort} returned in this process (never returned twice). */
const handedOut = new Set<number>();

/**
 * Sends one inline command and resolves with the raw reply text once `complete` says it is all
 * there (by default: the first line, enough for PING and status replies).
 */
function rawCommand(port: number, line: string, timeoutMs = 500, complete = (buf: string) => buf.includes("\r\n")): Promise<string> {
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
      if (complete(buf)) {
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

/** One redis-server process on a fixed port that can be stopped and started again. */
interface RedisProcess {
  readonly running: boolean;
  start(): Promise<void>;
  stop(how?: "kill" | "term"): Promise<void>;
}

function redisProcess(bin: string, port: number, args: string[]): RedisProcess {
  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let stderr = "";
  return {
    get running() {
      return proc !== null;
    },
    async start() {
      if (proc) return;
      stderr = "";
      const p = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning", ...args], {
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
    },
    async stop(how: "kill" | "term" = "kill") {
      const p = proc;
      if (!p) return;
      p.kill(how === "kill" ? "SIGKILL" : "SIGTERM");
      await exited;
      proc = null;
    },
  };
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
  const server = redisProcess(bin, port, ["--dir", dir]);
  await server.start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return server.running;
    },
    stop: (how) => server.stop(how),
    start: () => server.start(),
    async close() {
      await server.stop("kill");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestRedisCluster {
  /** Client ports of the masters. */
  ports: number[];
  /** `127.0.0.1:<port>` of each master (seed nodes). */
  nodes: string[];
  /** Whether master `i` is running. */
  running(i: number): boolean;
  /** Stops master `i` (default: all of them) with SIGKILL: an abrupt outage. */
  stop(i?: number): Promise<void>;
  /**
   * Starts master `i` (default: all stopped ones) again on its ports with its cluster config
   * (same node id and slots, no data) and resolves once every node reports cluster_state:ok.
   */
  start(i?: number): Promise<void>;
  /** Stops every node and removes the temp dir. */
  close(): Promise<void>;
}

/** A bulk-string reply is complete once its length prefix says so (other replies: at the first line end). */
function bulkComplete(buf: string): boolean {
  const m = /^\$(-?\d+)\r\n/.exec(buf);
  if (!m) return buf.includes("\r\n") && !buf.startsWith("$");
  return Number(m[1]) < 0 || Buffer.byteLength(buf) >= m[0].length + Number(m[1]) + 2;
}

/**
 * Starts a private Redis Cluster of `masters` masters on loopback (no replicas, no
 * persistence, each node on free client and cluster-bus ports) with `redis-cli --cluster
 * create`, and resolves once every node reports cluster_state:ok.
 */
export async function startRedisCluster(masters = 3): Promise<TestRedisCluster> {
  const bin = redisServerBinary();
  const cli = redisCliBinary();
  const dir = mkdtempSync(join(tmpdir(), "graphwiz-redis-cluster-"));
  const ports: number[] = [];
  const busPorts: number[] = [];
  while (ports.length < masters) {
    const [p, b] = [await freePort(), await freePort()];
    if (p === b || ports.includes(p) || busPorts.includes(b) || ports.includes(b) || busPorts.includes(p)) continue;
    ports.push(p);
    busPorts.push(b);
  }
  const servers = ports.map((port, i) =>
    redisProcess(bin, port, ["--dir", dir, "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--cluster-port", String(busPorts[i])]),
  );
  const nodes = ports.map((p) => `127.0.0.1:${p}`);
  const allOk = async () => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const infos = await Promise.all(ports.map((port) => rawCommand(port, "CLUSTER INFO", 1000, bulkComplete).catch(() => "")));
      if (infos.every((info) => info.includes("cluster_state:ok"))) return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster on ${nodes.join(",")} not ok within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await Promise.all(servers.map((s) => s.start()));
    const created = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(cli, ["--cluster", "create", ...nodes, "--cluster-replicas", "0", "--cluster-yes"], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      p.stdout.on("data", (d) => (out += d.toString()));
      p.stderr.on("data", (d) => (out += d.toString()));
      const timer = setTimeout(() => p.kill("SIGKILL"), 20_000); // never hang the test run
      p.once("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
    if (created.code !== 0) throw new Error(`redis-cli --cluster create failed (${created.code}): ${created.out.trim()}`);
    await allOk();
  } catch (e) {
    await Promise.all(servers.map((s) => s.stop("kill")));
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const pick = (i?: number) => (i === undefined ? servers : [servers[i]!]);
  return {
    ports,
    nodes,
    running: (i) => servers[i]!.running,
    async stop(i) {
      await Promise.all(pick(i).map((s) => s.stop("kill")));
    },
    async start(i) {
      await Promise.all(pick(i).map((s) => s.start()));
      await allOk();
    },
    async close() {
      await Promise.all(servers.map((s) => s.stop("kill")));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
