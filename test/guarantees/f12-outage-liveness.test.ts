/**
 * [guarantees] Finding 12: a Redis outage longer than NODE_TTL_MS must not make instances
 * declare each other dead. Liveness may count only time in which Redis was reachable (e.g.
 * after an outage every node gets a fresh TTL before anyone reaps). Today, when Redis comes
 * back, the first instance to reap finds the others' heartbeats older than the TTL and
 * announces PRESENCE_LEAVE for their members, all still connected. Redis is cut off (every
 * connection reset and refused, its data kept — as a failover keeps it on the replica) for
 * 5 s with NODE_TTL_MS=3000. (A SIGSTOP of Redis does not show it: the heartbeats queue up and
 * all run before anyone's reap.)
 * (The model's fixed case "an outage longer than NODE_TTL_MS" shows the same in process.)
 */
import { expect, test } from "bun:test";
import { RedisGate, startRedisProc } from "../chaos/redis-procs.ts";
import { RealCluster, sleep } from "./real.ts";

test("[finding 12] Redis unreachable for 5 s with NODE_TTL_MS=3000: no leave for anyone, stats and hellos still list everyone", async () => {
  const redis = await startRedisProc();
  const gate = await new RedisGate(redis.proc.port).start();
  const cluster = await RealCluster.start("liveness", ["bun", "node"], { REDIS_URL: `redis://127.0.0.1:${gate.port}`, NODE_HEARTBEAT_MS: "1000", NODE_TTL_MS: "3000", RESUME_WINDOW_MS: "30000" });
  try {
    const members = [await cluster.client("a1", 0), await cluster.client("b1", 1), await cluster.client("b2", 1, false)];
    await sleep(1500);
    gate.shut();
    await sleep(5000);
    gate.open();
    await cluster.ready();
    await sleep(3 * 1000 + 1500); // a TTL and more after the outage: any reaping has happened
    for (const m of members) expect(`${m.id} saw leaves of [${m.leaves()}]`).toBe(`${m.id} saw leaves of []`);
    // Stats first: a probe of `players` is itself listed until its own leave reaches the store.
    for (const i of [0, 1]) expect(await cluster.stats(i)).toEqual(["a1", "b1", "b2"]);
    for (const i of [0, 1]) expect(await cluster.players(i)).toEqual(["a1", "b1", "b2"]);
  } finally {
    await cluster.close();
    gate.close();
    await redis.close();
  }
}, 60_000);
