/**
 * What only the Redis Cluster mode does, on a private 3-master Redis Cluster (redis-server and
 * redis-cli --cluster create on loopback): the slot function agrees with Redis, rooms use
 * sharded pub/sub on the master owning their slot (SSUBSCRIBE/SPUBLISH, no classic channels),
 * a room's keys stay on that master, and one master going away and coming back leaves the
 * other rooms working and restores its own. The shared behaviour is in contract.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { ClusterUnavailableError, createClusterBackend } from "../../src/cluster/index.ts";
import { createRedisBackend, keySlot, parseClusterNodes, type RedisBackend } from "../../src/cluster/redis.ts";
import type { BackendStatus } from "../../src/cluster/types.ts";
import { freePort, startRedisCluster, type TestRedisCluster } from "../helpers/redis.ts";
import { failure, member, readU32, sleep, u32, unhandledRejections, waitFor } from "./fixtures.ts";

const rejections = unhandledRejections();
let cluster: TestRedisCluster;
/** A plain connection to each master, for inspection. */
let raw: Redis[] = [];

let starting: Promise<TestRedisCluster> | undefined;

beforeAll(async () => {
  rejections.install();
  cluster = await (starting = startRedisCluster(3));
  raw = cluster.ports.map((port) => new Redis({ host: "127.0.0.1", port, lazyConnect: true, retryStrategy: () => 200 }));
  for (const r of raw) r.on("error", () => {});
  await Promise.all(raw.map((r) => r.connect()));
}, 30_000); // redis-cli --cluster create waits for the nodes to agree: 2-4 s
afterAll(async () => {
  for (const r of raw) r.disconnect();
  // closed even if beforeAll timed out while it was starting
  await starting?.then((c) => c.close(), () => {});
  rejections.remove();
}, 10_000);

/** Index of the master serving `slot`, from CLUSTER SLOTS. */
async function ownerOf(slot: number): Promise<number> {
  const ranges = (await raw[0]!.call("CLUSTER", "SLOTS")) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
  for (const [from, to, master] of ranges) if (slot >= from && slot <= to) return cluster.ports.indexOf(Number(master[1]));
  throw new Error(`slot ${slot} unserved`);
}

/** One room name per master: `${base}-<n>`, the first whose slot that master owns. */
async function roomPerMaster(base: string): Promise<string[]> {
  const rooms: (string | undefined)[] = cluster.ports.map(() => undefined);
  for (let n = 0; rooms.includes(undefined); n++) {
    const room = `${base}-${n}`;
    const i = await ownerOf(keySlot(`x:{${room}}:bus`));
    rooms[i] ??= room;
  }
  return rooms as string[];
}


describe("without a cluster", () => {
  test("cluster nodes parse from a list or a comma string; bad ones are named", () => {
    expect(parseClusterNodes(" 127.0.0.1:7000, redis-b:7001 ,[::1]:7002")).toEqual([
      { host: "127.0.0.1", port: 7000 },
      { host: "redis-b", port: 7001 },
      { host: "::1", port: 7002 },
    ]);
    expect(parseClusterNodes(["h:1"])).toEqual([{ host: "h", port: 1 }]);
    for (const bad of ["h", "h:0", "h:65536", ":7000", "h:7000:1", "a b:1"]) expect(() => parseClusterNodes(bad)).toThrow(`"${bad}"`);
    expect(() => parseClusterNodes(" , ")).toThrow(/at least one/);
  });

  test("an empty node list means no cluster (memory without a URL)", async () => {
    for (const clusterNodes of ["", " ", []]) {
      const b = await createClusterBackend({ nodeId: "solo", clusterNodes });
      expect(b.kind).toBe("memory");
      await b.close();
    }
  });

  test("an unreachable cluster rejects with a clear error, without the password", async () => {
    const port = await freePort();
    const t0 = Date.now();
    const err = await createClusterBackend({ clusterNodes: `127.0.0.1:${port}`, redisUrl: "redis://user:secret@ignored:1", nodeId: "n", connectTimeoutMs: 400 }).catch((e) => e);
    expect(err).toBeInstanceOf(ClusterUnavailableError);
    expect(err.message).toContain(`Redis Cluster at 127.0.0.1:${port} is not reachable after 400 ms`);
    expect(err.message).not.toContain("secret");
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe("on a 3-master Redis Cluster", () => {
  test("keySlot agrees with CLUSTER KEYSLOT", async () => {
    const keys = ["plain", "gw:{room}:bus", "gw:{room}:log", "gw:{@due}:holds", "gw:{@node:n-1}:rooms", "{}x", "{{x}}", "x{y", "ünïcödé:{räum}", "gw:{hall:2}:members", ""];
    for (let i = 0; i < 200; i++) keys.push(`p:{room-${i * 7919}}:bus`);
    // Not "a{}{b}": cluster-key-slot 1.1.1 (ioredis' too) hashes "{b" after an empty first tag where
    // Redis hashes the whole key (redis/ioredis#2172). No key of ours has an empty tag: room keys
    // are tagged by the room id (1-128 characters, no braces: src/http/validate.ts), the rest by "@…".
    const slots = await Promise.all(keys.map((k) => raw[0]!.call("CLUSTER", "KEYSLOT", k) as Promise<number>));
    expect(keys.map(keySlot)).toEqual(slots.map(Number));
  });

  test("each room is a shard channel on the master owning its slot; keys stay with their room", async () => {
    const opts = { clusterNodes: cluster.nodes, prefix: "shard" };
    const a = await createRedisBackend({ ...opts, nodeId: "sa" });
    const b = await createRedisBackend({ ...opts, nodeId: "sb" });
    try {
      const rooms = await roomPerMaster("plaza");
      const got = new Map<string, number[]>();
      b.bus.onFrame((room, frame) => got.set(room, [...(got.get(room) ?? []), readU32(frame)]));
      for (const room of rooms) await b.bus.subscribe(room);

      // SPUBLISH from the bus and from the append script reach the subscriber of each master
      for (const room of rooms) {
        for (let i = 0; i < 50; i++) a.bus.publish(room, u32(i));
        await a.claims.claim(room, "p", { user: null, token: "s1", node: "sa", conn: "c1" }, "s1");
        await a.log.append(room, [u32(50)], { entities: [["e", "p", new Uint8Array([4])]] });
        await a.members.add(member("sa", room, `${room}-1`));
      }
      await a.claims.detach(rooms[0]!, "p", "s1", "c1", Date.now() + 30_000);
      await a.nodes.heartbeat({ node_id: "sa", connections: 3, last_heartbeat: 0 }, rooms);
      await waitFor(() => rooms.every((r) => got.get(r)?.length === 51), "frames in every room");
      for (const room of rooms) expect(got.get(room)).toEqual([...Array(51).keys()]); // in order per room

      const tagged = /^shard:\{([^{}]+)\}:[a-z]+$/;
      for (let i = 0; i < raw.length; i++) {
        const r = raw[i]!;
        // sharded channels only, each on its owner
        expect(((await r.call("PUBSUB", "SHARDCHANNELS", "shard:*")) as string[]).sort()).toEqual([`shard:{${rooms[i]}}:bus`]);
        expect(await r.call("PUBSUB", "CHANNELS", "*")).toEqual([]);
        expect(Number(await r.call("PUBSUB", "NUMPAT"))).toBe(0);
        const keys = (await r.keys("shard:*")).sort();
        for (const k of keys) {
          const tag = tagged.exec(k)?.[1];
          expect(tag, k).toBeDefined();
          expect(await ownerOf(keySlot(k))).toBe(i);
          expect(rooms.includes(tag!) || tag!.startsWith("@")).toBe(true);
        }
        // this master's room keeps all its keys here
        expect(keys.filter((k) => k.startsWith(`shard:{${rooms[i]}}:`))).toEqual(
          ["entities", "hist", "holders", "log", "members", "owners", "sessions"].map((s) => `shard:{${rooms[i]}}:${s}`),
        );
      }
      // the keys of no room ({@nodes}, {@node:sa}, {@due}) were all found above, each on its slot's owner
      const all = (await Promise.all(raw.map((r) => r.keys("shard:{@*")))).flat().sort();
      expect(all).toEqual(["shard:{@due}:holds", "shard:{@node:sa}:rooms", "shard:{@nodes}:beats", "shard:{@nodes}:info"]);
      expect(await b.claims.sessionClient(rooms[0]!, "s1")).toBe("p");
      expect(await b.claims.due(Date.now() + 60_000, 10)).toEqual([{ room: rooms[0]!, clientId: "p", token: "s1" }]);
      expect((await b.nodes.nodes()).map((n) => n.connections)).toEqual([3]);

      await b.bus.unsubscribe(rooms[1]!);
      const owner = raw[1]!;
      expect(await owner.call("PUBSUB", "SHARDCHANNELS", "shard:*")).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("one master down: unhealthy, other rooms still deliver, nothing throws; back up (empty), its rooms deliver again and the heartbeat says what was lost", async () => {
    const opts = { clusterNodes: cluster.nodes, prefix: "partial", reconnectMaxDelayMs: 100, commandTimeoutMs: 1000 };
    const a = (await createClusterBackend({ ...opts, nodeId: "pa" })) as RedisBackend;
    const b = (await createClusterBackend({ ...opts, nodeId: "pb" })) as RedisBackend;
    const status: BackendStatus[] = [];
    b.onStatus((s) => status.push(s));
    const rooms = await roomPerMaster("hall");
    const got = new Map<string, number>();
    b.bus.onFrame((room) => got.set(room, (got.get(room) ?? 0) + 1));
    for (const room of rooms) await b.bus.subscribe(room);
    // the master that goes down is not the one of the node registry: only room state is lost
    const registry = await ownerOf(keySlot("partial:{@nodes}:beats"));
    const down = registry === 2 ? 1 : 2;
    const hb = () => a.nodes.heartbeat({ node_id: "pa", connections: 3, last_heartbeat: 0 }, rooms);
    for (const room of rooms) await a.members.add(member("pa", room, `${room}-a`));
    expect(await hb()).toEqual({ forgotten: false });
    try {
      await cluster.stop(down);
      await waitFor(() => !b.status().healthy, "unhealthy");
      expect(b.status().reason).toMatch(/Redis connection lost \(Redis Cluster at /);

      // the rooms of the two live masters still deliver; the dead one's publishes are dropped, not thrown
      got.clear();
      for (const room of rooms) expect(() => a.bus.publish(room, u32(1))).not.toThrow();
      await waitFor(() => got.get(rooms[0]!) === 1 && got.get(rooms[1]!) === 1, "live rooms");
      expect(got.has(rooms[down]!)).toBe(false);
      expect((await a.log.append(rooms[0]!, [u32(2)]))!.entries[0]!.seq).toBe(1);
      expect(await a.claims.claim(rooms[1]!, "c", { user: null, token: "t", node: "pa", conn: "t" })).toEqual({ ok: true });
      // the dead master's rooms fail with a clear error (after ioredis' redirection retries), never hang
      for (const call of [() => a.log.append(rooms[down]!, [u32(2)]), () => a.claims.claim(rooms[down]!, "c", { user: null, token: "t", node: "pa", conn: "t" }), () => a.world.load(rooms[down]!)]) {
        expect(await failure(call)).toBeInstanceOf(ClusterUnavailableError);
      }

      await cluster.start(down); // same node id and slots, no data; waits for cluster_state:ok
      await waitFor(() => b.status().healthy && a.status().healthy, "healthy again");
      expect(status.at(-1)).toEqual({ healthy: true });
      expect(b.bus.counters.reconnects).toBeGreaterThanOrEqual(1);
      // its room's subscription was restored on the restarted master
      await waitFor(async () => {
        a.bus.publish(rooms[down]!, u32(3));
        await sleep(50);
        return got.has(rooms[down]!);
      }, "the restarted master's room");
      await waitFor(
        () => Promise.resolve(a.log.append(rooms[down]!, [u32(4)])).then(() => true, () => false),
        "appends on the restarted master",
      );
      expect(await a.claims.claim(rooms[down]!, "c", { user: null, token: "t", node: "pa", conn: "t" })).toEqual({ ok: true });
      // the master came back empty: the node's members (and holds) there are gone, so its heartbeat
      // says it was forgotten and the node puts its state back; then it is not forgotten any more
      expect(await hb()).toEqual({ forgotten: true });
      await a.members.add(member("pa", rooms[down]!, `${rooms[down]}-a`));
      expect(await hb()).toEqual({ forgotten: false });
    } finally {
      if (!cluster.running(down)) await cluster.start(down);
      await a.close();
      await b.close();
    }
    await sleep(20);
    expect(rejections.list).toEqual([]);
  }, 30_000);
});
