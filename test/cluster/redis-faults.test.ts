/**
 * Redis going away and coming back under traffic, on a private redis-server: nothing throws,
 * no unhandled rejection or 'error' escapes, status and counters say what happened, and the
 * same objects deliver again once Redis is back. Plus the key/channel layout.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { createClusterBackend, ClusterUnavailableError } from "../../src/cluster/index.ts";
import { createRedisBackend, type RedisBackend } from "../../src/cluster/redis.ts";
import type { BackendStatus } from "../../src/cluster/types.ts";
import { freePort, startRedis, type TestRedis } from "../helpers/redis.ts";
import { member, sleep, unhandledRejections, waitFor } from "./fixtures.ts";


const rejections = unhandledRejections();
let redis: TestRedis;

beforeAll(async () => {
  rejections.install();
  redis = await startRedis();
});
afterAll(async () => {
  await redis.close();
  rejections.remove();
});

test("Redis stopped under traffic, then restarted on the same port: unhealthy, nothing thrown, healthy again, delivery resumes", async () => {
  const opts = { redisUrl: redis.url, prefix: "faults", reconnectMaxDelayMs: 100, connectTimeoutMs: 2000, commandTimeoutMs: 1000 };
  const a = (await createClusterBackend({ ...opts, nodeId: "fa" })) as RedisBackend;
  const b = (await createClusterBackend({ ...opts, nodeId: "fb" })) as RedisBackend;
  const statusA: BackendStatus[] = [];
  const statusB: BackendStatus[] = [];
  a.onStatus((s) => statusA.push(s));
  b.onStatus((s) => statusB.push(s));
  const got: number[] = [];
  b.bus.onFrame((_room, frame) => got.push(new DataView(frame.buffer, frame.byteOffset).getUint32(0)));
  await b.bus.subscribe("live");
  await b.members.add(member("fb", "live", "b1"));

  // traffic: a frame per ms and an append every 10 ms, errors only counted
  let n = 0;
  let appendFailures = 0;
  let appendOk = 0;
  const traffic = setInterval(() => {
    const f = new Uint8Array(8);
    new DataView(f.buffer).setUint32(0, n++);
    a.bus.publish("live", f);
    if (n % 10 === 0) {
      Promise.resolve(a.log.append("live", [f])).then(
        () => appendOk++,
        (e) => {
          expect(e).toBeInstanceOf(ClusterUnavailableError);
          appendFailures++;
        },
      );
    }
  }, 1);
  try {
    await waitFor(() => got.length > 50, "traffic before the outage");

    await redis.stop("kill");
    await waitFor(() => !a.status().healthy && !b.status().healthy, "unhealthy status");
    expect(a.status().reason).toMatch(/Redis connection lost/);
    expect(statusA.at(-1)!.healthy).toBe(false);
    expect(statusB.at(-1)!.healthy).toBe(false);

    // during the outage: publish never throws, the rest rejects at once with a clear error. The
    // status turns unhealthy when the first of a node's two connections notices the loss; wait
    // until A's command connection has noticed too (its publishes are then dropped).
    await waitFor(() => {
      const droppedBefore = a.bus.counters.dropped;
      expect(() => a.bus.publish("live", new Uint8Array([1, 2, 3]))).not.toThrow();
      return a.bus.counters.dropped === droppedBefore + 1;
    }, "publishes dropped");
    const t0 = performance.now();
    const err = await Promise.resolve(a.log.append("live", [new Uint8Array([1])])).catch((e) => e);
    expect(err).toBeInstanceOf(ClusterUnavailableError);
    expect(String(err.message)).toMatch(/Redis/);
    expect(performance.now() - t0).toBeLessThan(50);
    await expect(a.members.list("live")).rejects.toBeInstanceOf(ClusterUnavailableError);
    await expect(a.nodes.heartbeat({ node_id: "fa", connections: 0, last_heartbeat: 0 }, [])).rejects.toBeInstanceOf(ClusterUnavailableError);
    await expect(a.claims.claim("live", "c", { user: null, token: "t", node: "fa", conn: "t" })).rejects.toBeInstanceOf(ClusterUnavailableError);
    await expect(a.log.read("live", 1, 0, 10)).rejects.toBeInstanceOf(ClusterUnavailableError);
    // subscribing while down is remembered and restored later
    await b.bus.subscribe("later");
    await sleep(300); // several reconnect attempts fail meanwhile
    expect(appendFailures).toBeGreaterThan(0);

    await redis.start();
    await waitFor(() => a.status().healthy && b.status().healthy, "healthy again");
    expect(statusA.at(-1)).toEqual({ healthy: true });
    expect(statusB.at(-1)).toEqual({ healthy: true });
    expect(a.bus.counters.reconnects).toBeGreaterThanOrEqual(1);
    expect(a.bus.counters.errors).toBeGreaterThan(0);

    // delivery resumes on the same objects (subscription restored on the fresh server)
    const mark = n;
    await waitFor(() => got.some((x) => x > mark + 20), "frames after the restart");
    const laterGot: Uint8Array[] = [];
    b.bus.onFrame((room, frame) => {
      if (room === "later") laterGot.push(frame);
      else got.push(new DataView(frame.buffer, frame.byteOffset).getUint32(0));
    });
    a.bus.publish("later", new Uint8Array([9]));
    await waitFor(() => laterGot.length === 1, "room subscribed during the outage");
    const okBefore = appendOk;
    await waitFor(() => appendOk > okBefore + 3, "appends after the restart");
    // the restarted server is empty: the heartbeat tells the node to re-register
    await a.nodes.heartbeat({ node_id: "fa", connections: 0, last_heartbeat: 0 }, []);
    expect(await b.nodes.heartbeat({ node_id: "fb", connections: 1, last_heartbeat: 0 }, [])).toEqual({ forgotten: false }); // first heartbeat of b
  } finally {
    clearInterval(traffic);
    await a.close();
    await b.close();
    if (!redis.running) await redis.start(); // the later tests need it, even when this one failed
  }
  await sleep(50);
  expect(rejections.list).toEqual([]);
}, 20_000);

test("heartbeat reports forgotten after Redis lost its data", async () => {
  const a = await createRedisBackend({ redisUrl: redis.url, prefix: "forget", nodeId: "fx", reconnectMaxDelayMs: 100 });
  try {
    expect(await a.nodes.heartbeat({ node_id: "fx", connections: 0, last_heartbeat: 0 }, [])).toEqual({ forgotten: false });
    await redis.stop();
    await redis.start();
    await waitFor(() => a.status().healthy, "healthy again");
    expect(await a.nodes.heartbeat({ node_id: "fx", connections: 0, last_heartbeat: 0 }, [])).toEqual({ forgotten: true });
    expect(await a.nodes.heartbeat({ node_id: "fx", connections: 0, last_heartbeat: 0 }, [])).toEqual({ forgotten: false });
  } finally {
    await a.close();
  }
});

test("a publish Redis refuses counts every frame of its batch as dropped, and the error", async () => {
  // a user that may do everything but publish: the command reaches Redis and fails there
  const admin = new Redis(redis.url);
  await admin.call("ACL", "SETUSER", "nopub", "on", "nopass", "~*", "&*", "+@all", "-publish");
  admin.disconnect();
  const a = await createRedisBackend({ redisUrl: redis.url.replace("//", "//nopub:x@"), prefix: "nopub", nodeId: "np" });
  try {
    for (let i = 0; i < 3; i++) a.bus.publish("r", new Uint8Array([i])); // one tick: one batch envelope
    await waitFor(() => a.bus.counters.dropped > 0, "the refused publish");
    await sleep(20);
    expect(a.bus.counters).toMatchObject({ published: 3, dropped: 3 });
    expect(a.bus.counters.errors).toBeGreaterThanOrEqual(1);
  } finally {
    await a.close();
  }
});

test("creating a backend for an unreachable Redis rejects with a clear error and leaves nothing running", async () => {
  const port = await freePort();
  const t0 = Date.now();
  const err = await createClusterBackend({ redisUrl: `redis://user:secret@127.0.0.1:${port}`, nodeId: "nobody", connectTimeoutMs: 300 }).catch((e) => e);
  expect(err).toBeInstanceOf(ClusterUnavailableError);
  expect(err.message).toMatch(new RegExp(`not reachable.*ECONNREFUSED|not reachable`));
  expect(err.message).not.toContain("secret");
  expect(Date.now() - t0).toBeLessThan(2000);
  await sleep(50);
  expect(rejections.list).toEqual([]);
});

test("every key and channel carries the prefix and a hash tag ({room} for room keys, {@…} for the rest); presence keys expire", async () => {
  const prefix = "layout";
  const a = await createRedisBackend({ redisUrl: redis.url, prefix, nodeId: "la" });
  const b = await createRedisBackend({ redisUrl: redis.url, prefix, nodeId: "lb" });
  const raw = new Redis(redis.url);
  try {
    await raw.flushall();
    const rooms = ["plaza", "hall:2", "a.b-c_d"];
    for (const room of rooms) {
      await a.bus.subscribe(room);
      await b.bus.subscribe(room);
      a.bus.publish(room, new Uint8Array([1]));
      await a.claims.claim(room, "p", { user: null, token: "s1", node: "la", conn: "c1" }, "s1");
      await a.log.append(room, [new Uint8Array([2])], { players: [["p", new Uint8Array([3])]], entities: [["e", "p", new Uint8Array([4])]] });
      await a.log.head(room);
      await a.members.add(member("la", room, `${room}-1`));
    }
    await a.claims.detach("plaza", "p", "s1", "c1", Date.now() + 30_000);
    await a.nodes.heartbeat({ node_id: "la", connections: 1, last_heartbeat: 0 }, rooms);
    await b.nodes.heartbeat({ node_id: "lb", connections: 0, last_heartbeat: 0 }, []);
    await sleep(20); // the claim's node-room write is not awaited
    const keys = (await raw.keys("*")).sort();
    const channels = (await raw.pubsub("CHANNELS", "*")) as string[];
    const roomKeys = ["entities", "hist", "holders", "log", "members", "owners", "players", "sessions"];
    expect(keys).toEqual(
      [...rooms.flatMap((r) => roomKeys.map((k) => `${prefix}:{${r}}:${k}`)), `${prefix}:{@due}:holds`, `${prefix}:{@node:la}:rooms`, `${prefix}:{@nodes}:beats`, `${prefix}:{@nodes}:info`].sort(),
    );
    const tagged = new RegExp(`^${prefix}:\\{([^{}]+)\\}:[a-z]+$`);
    for (const k of [...keys, ...channels]) expect(tagged.test(k), k).toBe(true);
    // presence and the node's room set expire unless heartbeats refresh them; the log after its idle window
    for (const k of keys) {
      const pttl = await raw.pttl(k);
      const ok = /:(log|hist)$/.test(k) ? pttl > 0 && pttl <= 120_000 : /\{@(nodes|due)\}/.test(k) ? pttl === -1 : pttl > 120_000;
      expect(ok, `${k}: ${pttl} ms`).toBe(true);
    }
    expect(await raw.zrange(`${prefix}:{@due}:holds`, "0", "-1")).toEqual(["plaza\np\ns1"]);
    expect(channels.sort()).toEqual(rooms.map((r) => `${prefix}:{${r}}:bus`).sort());
    // no pattern subscriptions, only per-room channels
    expect(Number(await raw.call("PUBSUB", "NUMPAT"))).toBe(0);
    await b.bus.unsubscribe("plaza");
    await a.bus.unsubscribe("plaza");
    expect(((await raw.pubsub("CHANNELS", "*")) as string[]).includes(`${prefix}:{plaza}:bus`)).toBe(false);
  } finally {
    raw.disconnect();
    await a.close();
    await b.close();
  }
});
