/**
 * One fault run on real processes: three instances (Bun, Deno, Node) on a private Redis (or a
 * Redis Cluster of 3 masters + 3 replicas), ten SDK-like clients (7 acknowledging, 3 plain
 * senders) each through its own TCP proxy, and the seeded {@link schedule} of chats, entity
 * ops, TCP drops with resumes, deliberate leaves and rejoins, a kill -9 and restart, and a
 * Redis stall or failover. Then the bus heals, everyone is back, and each instance is probed.
 * Returns the observations for {@link verdicts}; cleans up every process it started.
 * @module
 */
import { ModelClient } from "../model/client.ts";
import { startServer, type Runtime, type RunningServer } from "../helpers/server.ts";
import { RealNode } from "./real-conn.ts";
import { startRedisProc, startReplicatedCluster, type RedisProc } from "./redis-procs.ts";
import { ACK_CLIENTS, INSTANCES, PLAIN_CLIENTS, prng, schedule, type Event } from "./schedule.ts";
import type { ChaosObservations, ProbeResult, TimelineEvent } from "./verdict.ts";

export const ROOM = "chaos";
const RUNTIMES: Runtime[] = ["bun", "deno", "node"];
const WINDOW_MS = 10_000;
/** How long after a stall a leave waiting in an outbox may still be unappended: the heartbeat that finds Redis back, then a sweep (the model runner allows the same). */
const LEAVE_RETRY_MS = 1500;

export interface FaultRunOptions {
  seed: number;
  durationMs: number;
  cluster: boolean;
  /** Traffic only, no faults. */
  calm?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Runs the schedule of `seed` and returns what the clients observed. */
export async function faultRun(o: FaultRunOptions): Promise<ChaosObservations & { skipped: number; events: number }> {
  const log = o.log ?? (() => {});
  const redis = o.cluster ? undefined : await startRedisProc();
  const rc = o.cluster ? await startReplicatedCluster() : undefined;
  const backendEnv: Record<string, string> = rc ? { REDIS_CLUSTER_NODES: rc.nodes.join(",") } : { REDIS_URL: redis!.url };
  const env = (rt: Runtime, gen: number) => ({
    ...backendEnv, NODE_ID: `${rt}-${gen}`, RESUME_WINDOW_MS: String(WINDOW_MS), NODE_HEARTBEAT_MS: "1000", NODE_TTL_MS: "4000",
    RATE_LIMIT_MESSAGES: "100000", GLOBAL_RATE_LIMIT_MESSAGES: "0", CONNECT_RATE_LIMIT: "0",
  });
  const servers: (RunningServer | undefined)[] = [];
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s?.stop("SIGKILL")));
    await redis?.close();
    await rc?.close();
  };
  try {
    const started = await Promise.allSettled(RUNTIMES.map((rt) => startServer(rt, env(rt, 1), { timeoutMs: 30_000 })));
    for (const s of started) servers.push(s.status === "fulfilled" ? s.value : undefined);
    const failed = started.find((s) => s.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    return await drive(o, servers, env, redis?.proc, rc, log);
  } finally {
    await stopAll();
  }
}

async function drive(
  o: FaultRunOptions,
  servers: (RunningServer | undefined)[],
  env: (rt: Runtime, gen: number) => Record<string, string>,
  redis: RedisProc | undefined,
  rc: Awaited<ReturnType<typeof startReplicatedCluster>> | undefined,
  log: (line: string) => void,
): Promise<ChaosObservations & { skipped: number; events: number }> {
  const rand = prng(o.seed ^ 0x5eed);
  const wake = () => read();
  const nodes = servers.map((s, i) => new RealNode(RUNTIMES[i]!, s!.port, wake));
  const alive = nodes.map(() => true);
  const gen = nodes.map(() => 1);
  const clients: ModelClient[] = [];
  for (let i = 0; i < ACK_CLIENTS; i++) clients.push(new ModelClient(`c${i}`, ROOM, true, i % 2 ? "protobuf" : "json", Date.now));
  for (let i = 0; i < PLAIN_CLIENTS; i++) clients.push(new ModelClient(`p${i}`, ROOM, false, i % 2 ? "protobuf" : "json", Date.now));
  const timeline: TimelineEvent[] = [];
  /** When the current Redis stall ends (0: none so far). */
  let stallUntil = 0;
  const pendingResume = new Map<ModelClient, ReturnType<typeof setTimeout>>();
  const lastCloses = new Map<ModelClient, number>();
  const liveNode = (n: number) => {
    for (let i = 0; i < INSTANCES; i++) if (alive[(n + i) % INSTANCES]) return nodes[(n + i) % INSTANCES]!;
    return undefined;
  };
  const connect = (c: ModelClient, n: number) => {
    const node = liveNode(n);
    if (!node || (c.state !== "idle" && c.state !== "dropped")) return;
    timeline.push({ t: Date.now(), id: c.id, ev: "open" });
    c.connect(node);
  };
  const resumeLater = (c: ModelClient, ms: number, n: number) => {
    clearTimeout(pendingResume.get(c));
    pendingResume.set(c, setTimeout(() => (pendingResume.delete(c), connect(c, n)), ms));
  };
  function read(): void {
    for (const c of clients) {
      c.read();
      // A close the client did not make (instance died, 4104, …): the SDK reconnects (resumes).
      const last = c.serverCloses.length;
      if (last > (lastCloses.get(c) ?? 0)) {
        lastCloses.set(c, last);
        // An attempt closed before its hello never got in: the session's window runs on from before it.
        timeline.push({ t: Date.now(), id: c.id, ev: c.serverCloses.at(-1)!.joined ? "drop" : "failed" });
        if (!pendingResume.has(c)) resumeLater(c, 100 + Math.floor(rand() * 2900), Math.floor(rand() * INSTANCES));
      }
    }
  }
  const ticker = setInterval(read, 20);
  clients.forEach((c, i) => connect(c, i % INSTANCES));

  const events = schedule({ seed: o.seed, durationMs: o.durationMs, cluster: o.cluster, calm: o.calm });
  let skipped = 0;
  const restartFailures: string[] = [];
  const t0 = Date.now();
  const run = async (e: Event) => {
    const c = "who" in e ? clients[e.who]! : undefined;
    switch (e.k) {
      case "chat":
        if (!c!.chat()) skipped++;
        break;
      case "entity":
        if (c!.state === "connected") c!.entity(e.op, e.pick);
        else skipped++;
        break;
      case "drop":
        if (c!.state !== "connected" || pendingResume.has(c!)) return void skipped++;
        c!.drop(true);
        timeline.push({ t: Date.now(), id: c!.id, ev: "drop" });
        resumeLater(c!, e.after, e.node);
        break;
      case "leave":
        if (c!.state !== "connected" || pendingResume.has(c!)) return void skipped++;
        c!.leave();
        timeline.push({ t: Date.now(), id: c!.id, ev: "leave" });
        // During a stall the leave waits in its instance's outbox until Redis is back (and a sweep
        // ran): if that instance dies first, it is lost with it (docs/delivery.md, "Known gaps").
        if (c!.leaveUnsure && Date.now() < stallUntil) c!.leaveUnsure.until = stallUntil + LEAVE_RETRY_MS;
        else c!.leaveUnsure = undefined;
        resumeLater(c!, e.after, e.node);
        break;
      case "kill":
        log(`kill -9 ${nodes[e.node]!.name}`);
        alive[e.node] = false;
        servers[e.node]!.proc.kill("SIGKILL");
        // A leave still waiting in its outbox is lost: to the room, that client's instance died
        // while it was connected (its leave comes when its window closes, if it is not back).
        for (const cl of clients) {
          const u = cl.leaveUnsure;
          if (!u || u.node !== nodes[e.node] || Date.now() >= u.until) continue;
          cl.lostLeaves.push(...u.entities);
          const leave = timeline.findLast((x) => x.id === cl.id && x.ev === "leave");
          if (leave) leave.ev = "drop";
        }
        break;
      case "restart": {
        const rt = RUNTIMES[e.node]!;
        const id = ++gen[e.node]!;
        let s: RunningServer;
        try {
          s = await startServer(rt, env(rt, id), { timeoutMs: 30_000 });
        } catch (err) {
          // Recorded as a broken guarantee; the run goes on with the live seed nodes only.
          restartFailures.push(`${rt}-${id} did not start: ${(err as Error).message.split("\n")[0]}`);
          if (!rc) throw err;
          const live = rc.procs.filter((p) => p.running).map((p) => `127.0.0.1:${p.port}`).join(",");
          s = await startServer(rt, { ...env(rt, id), REDIS_CLUSTER_NODES: live }, { timeoutMs: 30_000 });
        }
        servers[e.node] = s;
        nodes[e.node]!.port = s.port;
        alive[e.node] = true;
        log(`restarted ${rt} as ${rt}-${gen[e.node]}`);
        break;
      }
      case "stall":
        log(`Redis stalled for ${e.ms} ms`);
        redis!.stall();
        setTimeout(() => redis!.resume(), e.ms);
        stallUntil = Date.now() + e.ms;
        break;
      case "failover": {
        const master = await rc!.masterOf(ROOM);
        log(`Redis Cluster: kill -9 of the master of {${ROOM}} (port ${master.port})`);
        await master.kill();
        break;
      }
    }
  };
  // Restarts and failovers take a while: they run alongside the schedule, not in its way.
  const slow: Promise<void>[] = [];
  try {
    for (const e of events) {
      const wait = t0 + e.at - Date.now();
      if (wait > 0) await Bun.sleep(wait);
      if (e.k === "restart" || e.k === "failover") slow.push(run(e));
      else await run(e);
    }
    await Promise.all(slow);
  } catch (e) {
    clearInterval(ticker);
    for (const t of pendingResume.values()) clearTimeout(t);
    await Promise.allSettled(slow);
    throw e;
  }
  log(`schedule done (${events.length} events, ${skipped} skipped); settling`);
  // Settle: everyone back (resumes pending or made now), resends done.
  await Bun.sleep(3500);
  for (const c of clients) if (c.state === "dropped" && !pendingResume.has(c)) connect(c, Math.floor(rand() * INSTANCES));
  const deadline = Date.now() + 15_000;
  while (clients.some((c) => c.state !== "connected") && Date.now() < deadline) await Bun.sleep(100);
  await Bun.sleep(5000); // > ACK_TIMEOUT_MS: a resend of anything unacknowledged has happened
  const probes = await probe(nodes, alive, servers).finally(() => clearInterval(ticker));
  const connectedAtEnd = new Set(clients.filter((c) => c.state === "connected").map((c) => c.id));
  const expectedEntities = new Map<string, string>();
  for (const c of clients) if (connectedAtEnd.has(c.id)) for (const [k, v] of c.expectedEntities()) expectedEntities.set(k, v);
  // An op whose connection died before its answer has an unknown outcome (the SDK says
  // OUTCOME_UNKNOWN): e.g. a spawn waiting in the outbox of an instance killed during a stall.
  const uncertainEntities = new Set(clients.flatMap((c) => c.uncertainEntities()));
  for (const c of clients) if (c.conn) c.leave();
  return { clients, timeline, windowMs: WINDOW_MS, probes, connectedAtEnd, expectedEntities, uncertainEntities, restartFailures, skipped, events: events.length };
}

/** A fresh plain joiner on each live instance (its hello's players and entities) and the instance's stats. */
async function probe(nodes: RealNode[], alive: boolean[], servers: (RunningServer | undefined)[]): Promise<ProbeResult[]> {
  const out: ProbeResult[] = [];
  for (let i = 0; i < nodes.length; i++) {
    if (!alive[i]) continue;
    const node = nodes[i]!;
    const p = new ModelClient(`probe-${node.name}`, ROOM, false, "json", Date.now);
    p.connect(node);
    const deadline = Date.now() + 5000;
    while (p.hellos.length === 0 && Date.now() < deadline) {
      await Bun.sleep(20);
      p.read();
    }
    const h = p.hellos[0];
    const entities = new Map<string, string>();
    for (const e of h?.initial_state?.entities ?? []) entities.set(String(e.id), String((e.components as Record<string, string> | undefined)?.v ?? ""));
    const stats = (await (await fetch(`${servers[i]!.http}/ws/${ROOM}/stats`)).json()) as { connections: { client_id: string }[] };
    out.push({
      node: node.name,
      hello: h !== undefined,
      players: (h?.initial_state?.players ?? []).map((x) => String(x.client_id)).sort(),
      entities,
      stats: stats.connections.map((c) => c.client_id).sort(),
    });
    p.leave();
    await Bun.sleep(200);
  }
  return out;
}
