/**
 * Private Redis processes the fault runs can hurt: stall (SIGSTOP/SIGCONT), kill -9, restart
 * empty — one server, or a Redis Cluster of 3 masters with a replica each (failover). Always
 * 127.0.0.1 on free ports (never 6379), no persistence, killed when the test process exits.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort, redisCliBinary, redisServerBinary } from "../helpers/redis.ts";

/** One redis-server that can be stopped, continued, killed and started again (empty) on its port. */
export class RedisProc {
  #proc?: ChildProcess;
  constructor(readonly port: number, readonly args: string[]) {}

  get pid(): number | undefined {
    return this.#proc?.pid;
  }
  get running(): boolean {
    return this.#proc !== undefined && this.#proc.exitCode === null && this.#proc.signalCode === null;
  }

  async start(): Promise<void> {
    const p = spawn(redisServerBinary(), ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning", ...this.args], { stdio: "ignore" });
    this.#proc = p;
    const kill = () => p.kill("SIGKILL");
    process.once("exit", kill);
    p.once("exit", () => process.off("exit", kill));
    const deadline = Date.now() + 5000;
    for (;;) {
      const r = new Redis({ port: this.port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on("error", () => {});
      try {
        await r.connect();
        if ((await r.ping()) === "PONG") return void r.disconnect();
      } catch {
        // not up yet
      }
      r.disconnect();
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
      await Bun.sleep(30);
    }
  }

  /** SIGSTOP: the process freezes (connections stay open, nothing is answered). */
  stall(): void {
    if (this.#proc?.pid) process.kill(this.#proc.pid, "SIGSTOP");
  }
  /** SIGCONT after {@link stall}. */
  resume(): void {
    if (this.#proc?.pid) process.kill(this.#proc.pid, "SIGCONT");
  }
  /** kill -9 and wait for the exit. */
  async kill(): Promise<void> {
    const p = this.#proc;
    if (!p || !this.running) return;
    const gone = new Promise<void>((r) => p.once("exit", () => r()));
    this.resume();
    p.kill("SIGKILL");
    await gone;
  }
}

/** A private redis-server. */
export async function startRedisProc(): Promise<{ proc: RedisProc; url: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "graphwiz-chaos-redis-"));
  const proc = new RedisProc(await freePort(), ["--dir", dir]);
  await proc.start();
  return { proc, url: `redis://127.0.0.1:${proc.port}`, close: async () => (await proc.kill(), rmSync(dir, { recursive: true, force: true })) };
}

/** A Redis Cluster of 3 masters and 3 replicas on loopback. */
export interface ReplicatedCluster {
  procs: RedisProc[];
  /** Seed nodes (`127.0.0.1:<port>`) of every node. */
  nodes: string[];
  /** The process serving as master for the hash slot of `{room}` now. */
  masterOf(room: string): Promise<RedisProc>;
  /** Waits until every slot is served again (cluster_state:ok on the live nodes). */
  healthy(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts 6 nodes (`cluster-node-timeout` 2000 ms, so a failover takes ~3 s) and creates the cluster with one replica per master. */
export async function startReplicatedCluster(): Promise<ReplicatedCluster> {
  const dir = mkdtempSync(join(tmpdir(), "graphwiz-chaos-cluster-"));
  const procs: RedisProc[] = [];
  const used = new Set<number>();
  const port = async () => {
    for (;;) {
      const p = await freePort();
      if (!used.has(p) && !used.has(p + 10000) && p + 10000 < 65536) return used.add(p), used.add(p + 10000), p;
    }
  };
  for (let i = 0; i < 6; i++) {
    const p = await port();
    procs.push(new RedisProc(p, ["--dir", dir, "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${p}.conf`), "--cluster-node-timeout", "2000"]));
  }
  const close = async () => {
    await Promise.all(procs.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  const nodes = procs.map((p) => `127.0.0.1:${p.port}`);
  const healthy = async (timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const infos = await Promise.all(procs.filter((p) => p.running).map((p) => info(p.port, "CLUSTER", "INFO")));
      if (infos.every((i) => i.includes("cluster_state:ok"))) return;
      if (Date.now() > deadline) throw new Error("Redis Cluster not ok in time");
      await Bun.sleep(100);
    }
  };
  try {
    await Promise.all(procs.map((p) => p.start()));
    const r = spawnSync(redisCliBinary(), ["--cluster", "create", ...nodes, "--cluster-replicas", "1", "--cluster-yes"], { encoding: "utf8", timeout: 30_000 });
    if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stdout}${r.stderr}`);
    await healthy();
  } catch (e) {
    await close();
    throw e;
  }
  return {
    procs,
    nodes,
    healthy,
    async masterOf(room) {
      for (const p of procs) {
        if (!p.running) continue;
        const slot = Number(await info(p.port, "CLUSTER", "KEYSLOT", `{${room}}`));
        const nodesText = await info(p.port, "CLUSTER", "NODES");
        for (const line of nodesText.split("\n")) {
          const f = line.split(" ");
          if (!f[2]?.includes("master") || f[2].includes("fail")) continue;
          for (const range of f.slice(8)) {
            const [a, b] = range.split("-").map(Number);
            if (slot >= a! && slot <= (b ?? a)!) return procs.find((x) => f[1]!.startsWith(`127.0.0.1:${x.port}@`))!;
          }
        }
      }
      throw new Error(`No master for {${room}}`);
    },
    close,
  };
}

/** One command's reply as text ("" when the node does not answer). */
async function info(port: number, ...cmd: string[]): Promise<string> {
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on("error", () => {});
  try {
    await r.connect();
    return String(await r.call(cmd[0]!, ...cmd.slice(1)));
  } catch {
    return "";
  } finally {
    r.disconnect();
  }
}

/**
 * A TCP gate in front of Redis: while shut, every connection through it is reset and new ones
 * are refused — a network outage that keeps Redis's data (as a failover keeps it on the replica).
 */
export class RedisGate {
  readonly #open = new Set<import("node:net").Socket>();
  #shut = false;
  #server?: import("node:net").Server;
  port = 0;
  constructor(readonly target: number) {}

  async start(): Promise<this> {
    const net = await import("node:net");
    this.#server = net.createServer((client) => {
      if (this.#shut) return void client.resetAndDestroy();
      const up = net.connect(this.target, "127.0.0.1");
      for (const s of [client, up]) {
        this.#open.add(s);
        s.on("error", () => {});
        s.on("close", () => (client.destroy(), up.destroy(), this.#open.delete(s)));
      }
      client.pipe(up);
      up.pipe(client);
    });
    await new Promise<void>((r) => this.#server!.listen(0, "127.0.0.1", r));
    this.port = (this.#server!.address() as { port: number }).port;
    return this;
  }

  /** Resets every connection and refuses new ones until {@link open}. */
  shut(): void {
    this.#shut = true;
    for (const s of this.#open) s.resetAndDestroy();
    this.#open.clear();
  }
  open(): void {
    this.#shut = false;
  }
  close(): void {
    this.shut();
    this.#server?.close();
  }
}
