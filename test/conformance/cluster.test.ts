/**
 * [cluster] three instances — Bun, Deno and Node — sharing one private redis-server: one room
 * across instances, a kill -9 of one instance, and a Redis outage under traffic.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GraphwizClient } from "../../src/client/index.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { Balancer } from "../helpers/balancer.ts";
import { eventually } from "../helpers/client.ts";
import { startRedis, startRedisCluster, type TestRedis } from "../helpers/redis.ts";
import { startServer, type Runtime, type RunningServer } from "../helpers/server.ts";
import { sdk, type Recorder } from "../helpers/sdk.ts";

const TTL = 2000;
const base = (redis: TestRedis) => ({
  REDIS_URL: redis.url, NODE_HEARTBEAT_MS: "500", NODE_TTL_MS: String(TTL),
  RATE_LIMIT_MESSAGES: "100000", PING_INTERVAL_MS: "600000",
});
/** Starts one server per runtime, or none: a failure stops the ones already started. */
async function startAll(runtimes: Runtime[], redis: TestRedis): Promise<RunningServer[]> {
  const settled = await Promise.allSettled(runtimes.map((rt) => startServer(rt, { ...base(redis), NODE_ID: rt })));
  const ok = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  if (ok.length === runtimes.length) return ok;
  await Promise.all(ok.map((s) => s.stop()));
  await redis.close();
  throw (settled.find((r) => r.status === "rejected") as PromiseRejectedResult).reason;
}
const json = async (url: string) => (await fetch(url)).json() as Promise<any>;
const chats = (r: Recorder) => r.ofType(MessageType.CHAT_MESSAGE).map((m) => m.chat_message!.message!);

describe("three instances, one room", () => {
  let redis: TestRedis;
  let servers: Record<Runtime, RunningServer>;
  const clients: Recorder[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    const [bun, deno, node] = await startAll(["bun", "deno", "node"], redis);
    servers = { bun, deno, node };
  });
  afterAll(async () => {
    for (const c of clients) c.client.close();
    await Promise.all(Object.values(servers ?? {}).map((s) => s.stop()));
    await redis?.close();
  });
  const join = async (rt: Runtime, room: string, opts: Parameters<typeof sdk>[2] = {}) => {
    const c = await sdk(servers[rt].ws, room, opts);
    clients.push(c);
    return c;
  };

  test("broadcast crosses every instance exactly once, in order per sender; presence and stats agree", async () => {
    const members = [
      await join("bun", "x", { clientId: "b1" }), await join("bun", "x", { clientId: "b2", format: "protobuf" }),
      await join("deno", "x", { clientId: "d1", format: "protobuf" }), await join("deno", "x", { clientId: "d2" }),
      await join("node", "x", { clientId: "n1" }), await join("node", "x", { clientId: "n2", format: "protobuf" }),
    ];
    // b1 joined first: it hears every later join, from every instance.
    await members[0].waitFor(() => members[0].ofType(MessageType.PRESENCE_JOIN).length === 5, "five joins");
    for (const m of members) for (let i = 0; i < 20; i++) m.client.sendChat(`${m.client.clientId}:${i}`);
    for (const m of members) {
      await m.waitFor(() => chats(m).length >= 100, "100 chats from the five others", 10_000);
      await Bun.sleep(100);
      const got = chats(m);
      expect(got.length).toBe(100); // exactly once: nothing duplicated, nothing missing
      for (const other of members) {
        if (other === m) continue;
        const from = got.filter((c) => c.startsWith(`${other.client.clientId}:`)).map((c) => Number(c.split(":")[1]));
        expect(from).toEqual(Array.from({ length: 20 }, (_, i) => i));
      }
    }
    const ids = async (s: RunningServer) => (await json(`${s.http}/ws/x/stats`)).connections.map((c: any) => `${c.client_id}@${c.node_id}`).sort();
    const expected = ["b1@bun", "b2@bun", "d1@deno", "d2@deno", "n1@node", "n2@node"];
    for (const s of Object.values(servers)) expect(await ids(s)).toEqual(expected);
    await eventually(async () => {
      const totals = await Promise.all(Object.values(servers).map(async (s) => (await json(`${s.http}/ws/stats`)).total_connections));
      return totals.every((t) => t === totals[0] && t >= 6);
    }, 5000, "the same cluster total on every instance");
    const global = await json(`${servers.deno.http}/ws/stats`);
    expect(global.nodes.map((n: any) => n.node_id).sort()).toEqual(["bun", "deno", "node"]);
    expect(global.local_connections).toBeGreaterThanOrEqual(2);
  });

  test("world state crosses instances: a joiner on another instance sees players and entities in its hello", async () => {
    const owner = await join("bun", "world", { clientId: "owner", displayName: "Owner" });
    owner.client.spawnEntity({ entity_id: "lamp", template_id: "lamp", components: { on: "1" } });
    owner.client.sendPosition({ x: 4, y: 5, z: 6 });
    await Bun.sleep(600); // players' poses reach the store at most 5 times a second
    const late = await join("node", "world", { clientId: "late" }); // node had nobody in this room: it loads the store
    expect(late.client.entities.get("lamp")).toMatchObject({ template_id: "lamp", owner_id: "owner", components: { on: "1" } });
    expect(late.client.players.get("owner")).toMatchObject({ display_name: "Owner", position: { x: 4, y: 5, z: 6 } });
    // Ownership holds across instances too.
    late.client.despawnEntity("lamp");
    const [err] = await late.nOf(MessageType.ERROR, 1);
    expect(err.error!.code).toBe("FORBIDDEN");
    const deno = await join("deno", "world", { clientId: "third" });
    owner.client.updateEntity("lamp", { on: "0" });
    await deno.nOf(MessageType.ENTITY_UPDATE, 1);
    await late.nOf(MessageType.ENTITY_UPDATE, 1);
  });
});

describe("faults", () => {
  test("kill -9 of one instance: its clients leave presence and stats within NODE_TTL_MS + 2 s; a reliable client resumes elsewhere without loss", async () => {
    const redis = await startRedis();
    const [bun, deno, node] = await startAll(["bun", "deno", "node"], redis);
    const lb = await Balancer.start([deno.port, bun.port]); // the first connection lands on deno
    try {
      const reliable = new GraphwizClient({ url: `ws://127.0.0.1:${lb.port}`, room: "k", clientId: "rel", reliable: true, reconnect: { initialMs: 50, maxMs: 200 } });
      const got: string[] = [];
      reliable.on("chat", (c) => got.push(c.message!));
      const hellos: boolean[] = [];
      reliable.on("hello", (h) => hellos.push(h.resumed === true));
      await reliable.connect();
      expect(lb.routed).toEqual([deno.port]);
      const doomed = await sdk(deno.ws, "k", { clientId: "doomed" });
      const watcher = await sdk(bun.ws, "k", { clientId: "watcher" });
      const sender = await sdk(node.ws, "k", { clientId: "sender" });
      let n = 0;
      const stream = setInterval(() => sender.client.sendChat(`c${n++}`), 20);
      await Bun.sleep(300);
      const t0 = Date.now();
      deno.proc.kill("SIGKILL");
      await eventually(async () => {
        const leaves = watcher.ofType(MessageType.PRESENCE_LEAVE).map((m) => m.presence_event!.client_id);
        const stats = await json(`${bun.http}/ws/k/stats`);
        return leaves.includes("doomed") && !stats.connections.some((c: any) => c.node_id === "deno");
      }, TTL + 4000, "the dead instance's clients to leave");
      expect(Date.now() - t0).toBeLessThan(TTL + 2000 + 1000); // + one heartbeat of slack for this busy machine
      expect(watcher.ofType(MessageType.PRESENCE_LEAVE).map((m) => m.presence_event!.client_id)).not.toContain("rel");
      await Bun.sleep(300);
      clearInterval(stream);
      await eventually(() => got.length === n, 5000, `all ${n} chats at the resumed client`);
      expect(got).toEqual(Array.from({ length: n }, (_, i) => `c${i}`));
      expect(hellos).toEqual([false, true]);
      expect(lb.routed.at(-1)).toBe(bun.port);
      const nodeStats = await json(`${node.http}/ws/k/stats`);
      expect(nodeStats.connections.map((c: any) => c.client_id).sort()).toEqual(["rel", "sender", "watcher"]);
      reliable.close();
      for (const c of [doomed, watcher, sender]) c.client.close();
    } finally {
      lb.stop();
      await Promise.all([bun.stop(), node.stop(), deno.stop()]);
      await redis.close();
    }
  }, 40_000);

  test("Redis down for 5 s under traffic: reliable chats wait in the outbox and then reach everyone once, in order; positions go on locally; /ready says 503 then 200", async () => {
    const redis = await startRedis();
    const [bun, node] = await startAll(["bun", "node"], redis);
    try {
      const sender = await sdk(bun.ws, "z", { clientId: "sender" });
      const local = await sdk(bun.ws, "z", { clientId: "local" });
      const remote = await sdk(node.ws, "z", { clientId: "remote" });
      let n = 0;
      const stream = setInterval(() => sender.client.sendChat(`${n++}`), 50);
      await eventually(() => chats(remote).length > 5, 5000, "cross-instance traffic");
      const ready = async (s: RunningServer) => (await fetch(`${s.http}/ready`)).status;
      expect(await ready(bun)).toBe(200);
      await redis.stop("kill");
      await eventually(async () => (await ready(bun)) === 503 && (await ready(node)) === 503, 5000, "/ready to turn 503");
      const body = await (await fetch(`${bun.http}/ready`)).json();
      expect(typeof body.reason).toBe("string");
      const down = n;
      const before = local.ofType(MessageType.POSITION_UPDATE).length;
      for (let i = 0; i < 20; i++) sender.client.sendPosition({ x: i });
      await local.waitFor(() => local.ofType(MessageType.POSITION_UPDATE).length >= before + 20, "positions to flow locally while Redis is away");
      await Bun.sleep(4000);
      // A reliable chat reaches every member or no one: nobody got what the log could not take.
      const during = chats(local).map(Number).filter((x) => x > down + 2);
      expect(during).toEqual([]);
      await redis.start();
      await eventually(async () => (await ready(bun)) === 200 && (await ready(node)) === 200, 15_000, "/ready back to 200");
      clearInterval(stream);
      const sent = n;
      for (const r of [local, remote]) {
        await eventually(() => chats(r).length >= sent, 15_000, `all ${sent} chats at ${r === local ? "local" : "remote"}`);
        expect(chats(r).map(Number)).toEqual(Array.from({ length: sent }, (_, i) => i)); // none lost, none doubled, in order
      }
      const m = await json(`${bun.http}/metrics`);
      expect(m.cluster.bus.reconnects).toBeGreaterThanOrEqual(1);
      expect(m.delivery.outbox_retries).toBeGreaterThan(0);
      expect(m.delivery.not_delivered).toBe(0);
      for (const c of [sender, local, remote]) c.client.close();
    } finally {
      await Promise.all([bun.stop(), node.stop()]);
      await redis.close();
    }
  }, 60_000);
});

describe("Redis Cluster", () => {
  test("two instances (Bun, Node) over a 3-master Redis Cluster with REDIS_CLUSTER_NODES: one room across them", async () => {
    const rc = await startRedisCluster(3);
    const env = { REDIS_CLUSTER_NODES: rc.nodes.join(","), NODE_HEARTBEAT_MS: "500", NODE_TTL_MS: String(TTL), RATE_LIMIT_MESSAGES: "100000" };
    const settled = await Promise.allSettled((["bun", "node"] as const).map((rt) => startServer(rt, { ...env, NODE_ID: rt })));
    const servers = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    try {
      expect(servers.length).toBe(2);
      const [bun, node] = servers;
      const rooms = ["alpha", "beta", "gamma"]; // spread over the masters' slots
      for (const room of rooms) {
        const a = await sdk(bun.ws, room, { clientId: `a-${room}` });
        const b = await sdk(node.ws, room, { clientId: `b-${room}`, format: "protobuf" });
        await a.nOf(MessageType.PRESENCE_JOIN, 1);
        for (let i = 0; i < 20; i++) a.client.sendChat(`${room}:${i}`);
        await b.waitFor(() => chats(b).length === 20, `20 chats in ${room}`);
        expect(chats(b)).toEqual(Array.from({ length: 20 }, (_, i) => `${room}:${i}`));
        b.client.sendPosition({ x: 7 });
        await a.nOf(MessageType.POSITION_UPDATE, 1);
        a.client.close();
        b.client.close();
      }
      expect((await json(`${bun.http}/metrics`)).cluster.kind).toBe("redis");
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await rc.close();
    }
  }, 60_000);
});
