/**
 * A private Redis Sentinel set-up on loopback for tests: one master, one replica and three
 * Sentinels (`redis-server --sentinel`), each on its own free port, no persistence, a temp dir.
 * The Sentinels declare a master down after 1 s, so a failover takes a few seconds. Never
 * touches the shared Redis on 6379.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort, redisServerBinary } from "./redis.ts";

export interface TestSentinel {
  /** The master group name the Sentinels monitor. */
  name: string;
  /** `127.0.0.1:<port>` of each Sentinel (REDIS_SENTINELS). */
  sentinels: string[];
  /** Ports of the first master and of the replica. */
  masterPort: number;
  replicaPort: number;
  /** The master's port as the first answering Sentinel reports it. */
  currentMaster(): Promise<number>;
  /** SIGKILLs the data node on `port` (an abrupt master loss). */
  kill(port: number): Promise<void>;
  /** Starts the data node on `port` again (empty; the Sentinels make it a replica of the current master). */
  restart(port: number): Promise<void>;
  /** Resolves once the node on `port` is a replica in sync with its master. */
  inSync(port: number, timeoutMs?: number): Promise<void>;
  /** Asks a Sentinel for a planned failover (the master stays up and becomes a replica). */
  failover(): Promise<void>;
  /** Stops every process and removes the temp dir. */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` on a short-lived connection to 127.0.0.1:`port`. */
async function withConn<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  r.on("error", () => {});
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`Redis Sentinel set-up: ${what} not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Resolves once the node on `port` is a replica whose link to its master is up. */
const inSync = (port: number, timeoutMs = 10_000) =>
  until(`the replica on ${port} in sync`, timeoutMs, () => withConn(port, async (r) => (await r.info("replication")).includes("master_link_status:up")));

/** Starts the master, the replica and three Sentinels; resolves once the Sentinels know each other and the replica. */
export async function startRedisSentinel(name = "gwmaster"): Promise<TestSentinel> {
  const bin = redisServerBinary();
  const dir = mkdtempSync(join(tmpdir(), "graphwiz-sentinel-"));
  const ports: number[] = [];
  while (ports.length < 5) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const [masterPort, replicaPort, ...sentinelPorts] = ports as [number, number, ...number[]];
  const procs = new Map<number, ChildProcess>();
  const argsOf = new Map<number, string[]>();
  const launch = (port: number, args: string[]) => {
    argsOf.set(port, args);
    const p = spawn(bin, args, { stdio: ["ignore", "ignore", "ignore"] });
    const killOnExit = () => p.kill("SIGKILL"); // never leave a server behind if the test process dies
    process.once("exit", killOnExit);
    p.once("exit", () => process.off("exit", killOnExit));
    procs.set(port, p);
  };
  const data = (port: number, extra: string[] = []) => {
    mkdirSync(join(dir, String(port)), { recursive: true });
    launch(port, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning", "--dir", join(dir, String(port)), ...extra]);
  };
  const close = async () => {
    await Promise.all([...procs.values()].map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((r) => (p.once("exit", r), p.kill("SIGKILL"))) : undefined)));
    procs.clear();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    data(masterPort);
    data(replicaPort, ["--replicaof", "127.0.0.1", String(masterPort)]);
    await inSync(replicaPort);
    for (const port of sentinelPorts) {
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(conf, [
        `port ${port}`, "bind 127.0.0.1", "protected-mode no", `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
      ].join("\n") + "\n");
      launch(port, [conf, "--sentinel", "--loglevel", "warning"]);
    }
    await until("the Sentinels to know each other and the replica", 15_000, async () => {
      const views = await Promise.all(sentinelPorts.map((port) => withConn(port, (r) => r.call("SENTINEL", "MASTER", name) as Promise<string[]>)));
      return views.every((v) => {
        const f = Object.fromEntries(v.reduce<[string, string][]>((acc, x, i, a) => (i % 2 ? acc : [...acc, [x, a[i + 1]!]]), []));
        return f["num-other-sentinels"] === "2" && f["num-slaves"] === "1";
      });
    });
  } catch (e) {
    await close();
    throw e;
  }
  return {
    name,
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`),
    masterPort,
    replicaPort,
    async currentMaster() {
      for (const port of sentinelPorts) {
        try {
          const addr = (await withConn(port, (r) => r.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name))) as [string, string];
          return Number(addr[1]);
        } catch {
          // ask the next one
        }
      }
      throw new Error("no Sentinel answered");
    },
    async restart(port) {
      const p = procs.get(port);
      if (p && p.exitCode === null && p.signalCode === null) return;
      // Without --replicaof: the Sentinels find it and turn it into a replica of the current master.
      launch(port, argsOf.get(port)!.filter((a, i, all) => a !== "--replicaof" && all[i - 1] !== "--replicaof" && all[i - 2] !== "--replicaof"));
      await until(`the node on ${port} to answer`, 5000, () => withConn(port, async (r) => (await r.ping()) === "PONG"));
    },
    inSync,
    async failover() {
      await withConn(sentinelPorts[0]!, (r) => r.call("SENTINEL", "FAILOVER", name));
    },
    async kill(port) {
      const p = procs.get(port);
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      await new Promise((r) => (p.once("exit", r), p.kill("SIGKILL")));
    },
    close,
  };
}
