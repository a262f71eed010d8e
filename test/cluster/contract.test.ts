/**
 * One contract for every cluster backend: the same tests run against the memory broker and a
 * private redis-server (two or three "nodes" sharing it). Time is a ManualClock injected into
 * both backends, so liveness and reaping need no sleeping; Redis key expiry (real time) is
 * the only wait, and only in the epoch test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/core/clock.ts";
import { createClusterBackend, MemoryBroker, type ClusterOptions } from "../../src/cluster/index.ts";
import { ClusterUnavailableError } from "../../src/cluster/shared.ts";
import type { ClusterBackend, MemberInfo, SessionRecord } from "../../src/cluster/types.ts";
import { encodeBinary, MessageProto } from "../../src/protocol/proto.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { startRedis, type TestRedis } from "../helpers/redis.ts";

const TTL = 10_000;

interface Harness {
  clock: ManualClock;
  /** `n` nodes sharing one broker / Redis (fresh namespace per call). */
  nodes(n: number, opts?: Partial<ClusterOptions>): Promise<ClusterBackend[]>;
  /** Lets pending deliveries happen. */
  settle(): Promise<void>;
  /** Moves time on (Redis: also really waits, for key expiry). */
  elapse(ms: number): Promise<void>;
  /** Takes the backend of `nodes` away (Redis: stops the server) until the returned function brings it back. */
  outage(nodes: ClusterBackend[]): Promise<() => Promise<void>>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(2);
  }
}

type Got = { room: string; frame: Uint8Array; from: string };
function collect(b: ClusterBackend): Got[] {
  const got: Got[] = [];
  b.bus.onFrame((room, frame, from) => got.push({ room, frame: frame.slice(), from }));
  return got;
}

const u32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const readU32 = (f: Uint8Array) => ((f[0]! << 24) | (f[1]! << 16) | (f[2]! << 8) | f[3]!) >>> 0;
const chat = (text: string) =>
  encodeBinary({ type: MessageType.CHAT_MESSAGE, payload: "chat_message", chat_message: { from_client_id: "c", message: text } } as never);
const member = (node: string, room: string, conn: string, client: string): MemberInfo => ({
  connection_id: conn,
  room_id: room,
  user_id: null,
  client_id: client,
  display_name: client,
  node_id: node,
  connected_at: "2026-01-01T00:00:00.000Z",
});

const session = (id: string, node: string, conn?: string): SessionRecord => ({
  id,
  room_id: "lobby",
  user_id: null,
  client_id: `client-${id}`,
  node_id: node,
  ...(conn ? { connection_id: conn } : {}),
});

let redis: TestRedis | undefined;
let nsSeq = 0;
const open: ClusterBackend[] = [];

const healthy = (nodes: ClusterBackend[], want: boolean) => () => nodes.every((b) => b.bus.status().healthy === want && b.presence.status().healthy === want);

const memoryHarness = (): Harness => {
  const clock = new ManualClock();
  let broker: MemoryBroker | undefined;
  return {
    clock,
    async nodes(n, opts = {}) {
      broker = new MemoryBroker({ clock, nodeTtlMs: TTL, ...opts });
      const out: ClusterBackend[] = [];
      for (let i = 0; i < n; i++) out.push(await createClusterBackend({ nodeId: `node-${String.fromCharCode(97 + i)}`, broker, ...opts }));
      open.push(...out);
      return out;
    },
    async settle() {
      await sleep(0);
    },
    async elapse(ms) {
      clock.advance(ms);
    },
    async outage() {
      const b = broker!;
      b.setAvailable(false, "Simulated outage");
      return async () => b.setAvailable(true);
    },
  };
};

const redisHarness = (): Harness => {
  const clock = new ManualClock(Date.now());
  return {
    clock,
    async nodes(n, opts = {}) {
      const prefix = `gwtest${++nsSeq}`;
      const out: ClusterBackend[] = [];
      for (let i = 0; i < n; i++) {
        out.push(await createClusterBackend({ redisUrl: redis!.url, prefix, nodeId: `node-${String.fromCharCode(97 + i)}`, clock, nodeTtlMs: TTL, ...opts }));
      }
      open.push(...out);
      return out;
    },
    async settle() {
      await sleep(30);
    },
    async elapse(ms) {
      clock.advance(ms);
      await sleep(ms);
    },
    async outage(nodes) {
      await redis!.stop("kill");
      await waitFor(healthy(nodes, false), "unhealthy status");
      return async () => {
        await redis!.start();
        await waitFor(healthy(nodes, true), "healthy again");
      };
    },
  };
};

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.close();
  process.off("unhandledRejection", onUnhandled);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

for (const [kind, make] of [
  ["memory", memoryHarness],
  ["redis", redisHarness],
] as const) {
  describe(`cluster contract: ${kind}`, () => {
    let h: Harness;
    beforeAll(() => {
      h = make();
    });

    test("kind and health", async () => {
      const [a] = await h.nodes(1);
      expect(a!.kind).toBe(kind);
      expect(a!.bus.status()).toEqual({ healthy: true });
      expect(a!.presence.status()).toEqual({ healthy: true });
      expect(a!.bus.nodeId).toBe("node-a");
    });

    test("subscribe delivers, unsubscribe stops, both idempotent", async () => {
      const [a, b] = await h.nodes(2);
      const got = collect(b!);
      await b!.bus.subscribe("r1");
      await b!.bus.subscribe("r1");
      await b!.bus.subscribe("sentinel");
      a!.bus.publish("r1", u32(1));
      await waitFor(() => got.length === 1, "first frame");
      await h.settle();
      expect(got.length).toBe(1); // subscribed twice, delivered once
      expect(got[0]).toEqual({ room: "r1", frame: u32(1), from: "node-a" });

      await b!.bus.unsubscribe("r1");
      await b!.bus.unsubscribe("r1");
      a!.bus.publish("r1", u32(2));
      a!.bus.publish("sentinel", u32(3)); // same publisher: arrives after the r1 frame would have
      await waitFor(() => got.length === 2, "sentinel");
      expect(got.map((g) => g.room)).toEqual(["r1", "sentinel"]);

      await b!.bus.subscribe("r1");
      a!.bus.publish("r1", u32(4));
      await waitFor(() => got.length === 3, "frame after resubscribe");
      expect(got[2]!.frame).toEqual(u32(4));
    });

    test("a node never receives its own publications; the other gets each exactly once", async () => {
      const [a, b] = await h.nodes(2);
      const gotA = collect(a!);
      const gotB = collect(b!);
      await a!.bus.subscribe("room");
      await b!.bus.subscribe("room");
      for (let i = 0; i < 100; i++) a!.bus.publish("room", u32(i));
      b!.bus.publish("room", u32(1_000_000)); // A's marker
      await waitFor(() => gotB.length === 100 && gotA.length === 1, "deliveries");
      await h.settle();
      expect(gotA.map((g) => readU32(g.frame))).toEqual([1_000_000]);
      expect(gotA[0]!.from).toBe("node-b");
      expect(new Set(gotB.map((g) => readU32(g.frame))).size).toBe(100);
      expect(gotB.length).toBe(100);
      expect(gotB.every((g) => g.from === "node-a")).toBe(true);
      expect(a!.bus.counters.published).toBe(100);
      expect(b!.bus.counters.received).toBe(100);
      expect(a!.bus.counters.received).toBe(1);
    });

    test("order of 1,000 frames from one publisher is preserved", async () => {
      const [a, b] = await h.nodes(2);
      const got = collect(b!);
      await b!.bus.subscribe("big");
      const payload = new Uint8Array(200).fill(7);
      for (let i = 0; i < 1000; i++) {
        const f = new Uint8Array(204);
        f.set(u32(i), 0);
        f.set(payload, 4);
        a!.bus.publish("big", f);
      }
      await waitFor(() => got.length >= 1000, "1000 frames");
      await h.settle();
      expect(got.length).toBe(1000);
      const seqs = got.map((g) => readU32(g.frame));
      expect(seqs).toEqual([...Array(1000).keys()]);
      expect(got[999]!.frame.length).toBe(204);
    });

    test("rooms are isolated", async () => {
      const [a, b, c] = await h.nodes(3);
      const gotB = collect(b!);
      const gotC = collect(c!);
      await b!.bus.subscribe("one");
      await c!.bus.subscribe("two");
      for (let i = 0; i < 10; i++) {
        a!.bus.publish("one", u32(i));
        a!.bus.publish("two", u32(100 + i));
        a!.bus.publish("three", u32(200 + i));
      }
      await waitFor(() => gotB.length === 10 && gotC.length === 10, "both rooms");
      await h.settle();
      expect(gotB.every((g) => g.room === "one" && readU32(g.frame) < 100)).toBe(true);
      expect(gotC.every((g) => g.room === "two" && readU32(g.frame) >= 100 && readU32(g.frame) < 200)).toBe(true);
    });

    test("room log: seq strictly increasing across nodes, one epoch, frames carry seq/epoch", async () => {
      const [a, b] = await h.nodes(2);
      const gotB = collect(b!);
      await b!.bus.subscribe("log");
      const head0 = await a!.log.head("log");
      expect(head0.seq).toBe(0);
      expect(head0.epoch).toBeGreaterThan(0);

      const first = a!.log.append("log", chat("m1"));
      if (kind === "memory") expect(first instanceof Promise).toBe(false); // synchronous
      const entries = [await first];
      for (let i = 2; i <= 6; i++) entries.push(await (i % 2 ? a! : b!).log.append("log", chat(`m${i}`)));
      expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(new Set(entries.map((e) => e.epoch))).toEqual(new Set([head0.epoch]));
      for (const e of entries) {
        const m = MessageProto.decode(e.frame) as unknown as { seq: number; epoch: number; chat_message: { message: string } };
        expect(m.seq).toBe(e.seq);
        expect(m.epoch).toBe(e.epoch);
      }
      // A's appends reach B (B's own do not)
      await waitFor(() => gotB.length === 3, "appended frames on the bus");
      await h.settle();
      expect(gotB.map((g) => g.frame)).toEqual([entries[0]!.frame, entries[2]!.frame, entries[4]!.frame]);

      expect(await a!.log.head("log")).toEqual({ epoch: head0.epoch, seq: 6 });
      const after2 = await b!.log.read("log", head0.epoch, 2, 100);
      expect(after2!.map((e) => e.seq)).toEqual([3, 4, 5, 6]);
      expect(after2!.map((e) => [...e.frame])).toEqual(entries.slice(2).map((e) => [...e.frame]));
      expect((await a!.log.read("log", head0.epoch, 2, 2))!.map((e) => e.seq)).toEqual([3, 4]);
      expect(await a!.log.read("log", head0.epoch, 6, 10)).toEqual([]);
      expect(await a!.log.read("log", head0.epoch, 0, 0)).toEqual([]);
      expect(await a!.log.read("log", head0.epoch ^ 1, 2, 10)).toBeNull(); // other epoch
      expect(await a!.log.read("log", head0.epoch, 7, 10)).toBeNull(); // beyond the head
      expect(await a!.log.read("never-used", 1234, 0, 10)).toBeNull();
      // rooms have their own sequences
      expect((await a!.log.append("other", chat("x"))).seq).toBe(1);
    });

    test("appends issued in order resolve in order", async () => {
      const [a] = await h.nodes(1);
      const order: number[] = [];
      const ps = [];
      for (let i = 0; i < 50; i++) ps.push(Promise.resolve(a!.log.append("ord", chat(`${i}`))).then((e) => order.push(e.seq)));
      await Promise.all(ps);
      expect(order).toEqual([...Array(50).keys()].map((i) => i + 1));
    });

    test("history is capped: old entries are gone, the newest historySize remain", async () => {
      const [a] = await h.nodes(1, { historySize: 50 });
      const { epoch } = await a!.log.head("cap");
      const ps = [];
      for (let i = 0; i < 500; i++) ps.push(a!.log.append("cap", chat(`${i}`)));
      await Promise.all(ps);
      expect(await a!.log.head("cap")).toEqual({ epoch, seq: 500 });
      expect(await a!.log.read("cap", epoch, 0, 1000)).toBeNull();
      expect(await a!.log.read("cap", epoch, 100, 1000)).toBeNull();
      const tail = await a!.log.read("cap", epoch, 450, 1000);
      expect(tail!.map((e) => e.seq)).toEqual([...Array(50).keys()].map((i) => 451 + i));
    });

    test("a room log idle past historyTtlMs starts a new epoch", async () => {
      const [a] = await h.nodes(1, { historyTtlMs: 150 });
      const e1 = await a!.log.append("idle", chat("1"));
      await h.elapse(400);
      const e2 = await a!.log.append("idle", chat("2"));
      expect(e2.seq).toBe(1);
      expect(e2.epoch).not.toBe(e1.epoch);
      expect(await a!.log.read("idle", e1.epoch, 0, 10)).toBeNull();
    });

    test("members are listed across nodes", async () => {
      const [a, b] = await h.nodes(2);
      await a!.presence.addMember(member("node-a", "lobby", "conn-a1", "alice"));
      await b!.presence.addMember(member("node-b", "lobby", "conn-b1", "bob"));
      await b!.presence.addMember(member("node-b", "elsewhere", "conn-b2", "bob"));
      const sort = (ms: MemberInfo[]) => ms.sort((x, y) => x.connection_id.localeCompare(y.connection_id));
      const fromA = sort(await a!.presence.members("lobby"));
      expect(fromA).toEqual([member("node-a", "lobby", "conn-a1", "alice"), member("node-b", "lobby", "conn-b1", "bob")]);
      expect(sort(await b!.presence.members("lobby"))).toEqual(fromA);
      await b!.presence.removeMember("lobby", "conn-b1");
      expect((await a!.presence.members("lobby")).map((m) => m.client_id)).toEqual(["alice"]);
      expect(await a!.presence.members("nobody-here")).toEqual([]);
    });

    test("world snapshots: players and entities from every node", async () => {
      const [a, b] = await h.nodes(2);
      const bytes = (s: string) => new TextEncoder().encode(s);
      await a!.presence.setPlayer("w", "alice", bytes("pa"));
      await b!.presence.setPlayer("w", "bob", bytes("pb"));
      await b!.presence.setPlayer("w", "bob", bytes("pb2")); // latest wins
      await a!.presence.setEntity("w", "e1", "alice", bytes("e1"));
      await b!.presence.setEntity("w", "e2", "bob", bytes("e2"));
      const txt = (xs: Uint8Array[]) => xs.map((x) => new TextDecoder().decode(x)).sort();
      let w = await b!.presence.world("w");
      expect(txt(w.players)).toEqual(["pa", "pb2"]);
      expect(txt(w.entities)).toEqual(["e1", "e2"]);
      await a!.presence.removeEntity("w", "e2");
      await b!.presence.removePlayer("w", "alice");
      w = await a!.presence.world("w");
      expect(txt(w.players)).toEqual(["pb2"]);
      expect(txt(w.entities)).toEqual(["e1"]);
      expect(await a!.presence.world("empty")).toEqual({ players: [], entities: [] });
    });

    test("heartbeats: live nodes listed, connections summed, silent nodes drop out", async () => {
      const [a, b] = await h.nodes(2);
      expect(await a!.presence.heartbeat({ node_id: "node-a", connections: 3, last_heartbeat: 0, runtime: "bun" })).toEqual({ forgotten: false });
      await b!.presence.heartbeat({ node_id: "node-b", connections: 4, last_heartbeat: 0, runtime: "deno" });
      const nodes = (await b!.presence.nodes()).sort((x, y) => x.node_id.localeCompare(y.node_id));
      expect(nodes.map((n) => [n.node_id, n.connections, n.runtime])).toEqual([
        ["node-a", 3, "bun"],
        ["node-b", 4, "deno"],
      ]);
      expect(nodes[0]!.last_heartbeat).toBe(h.clock.now()); // stamped by the store
      expect(await a!.presence.totalConnections()).toBe(7);
      h.clock.advance(TTL / 2);
      await a!.presence.heartbeat({ node_id: "node-a", connections: 5, last_heartbeat: 0 });
      h.clock.advance(TTL / 2 + 1);
      expect((await a!.presence.nodes()).map((n) => n.node_id)).toEqual(["node-a"]);
      expect(await b!.presence.totalConnections()).toBe(5);
    });

    test("reaping a node whose heartbeats stopped removes its members, lone players and their entities", async () => {
      const [a, b] = await h.nodes(2);
      const hb = (x: ClusterBackend, id: string) => x.presence.heartbeat({ node_id: id, connections: 1, last_heartbeat: 0 });
      await hb(a!, "node-a");
      await hb(b!, "node-b");
      // alice: only on B (dies with it). carol: on A and B (stays). bob: on B in two rooms.
      await a!.presence.addMember(member("node-a", "r1", "a-carol", "carol"));
      await b!.presence.addMember(member("node-b", "r1", "b-carol", "carol"));
      await b!.presence.addMember(member("node-b", "r1", "b-alice", "alice"));
      await b!.presence.addMember(member("node-b", "r2", "b-bob", "bob"));
      const p = new Uint8Array([1]);
      for (const c of ["carol", "alice"]) await b!.presence.setPlayer("r1", c, p);
      await b!.presence.setPlayer("r2", "bob", p);
      await b!.presence.setEntity("r1", "alice-hat", "alice", p);
      await b!.presence.setEntity("r1", "carol-box", "carol", p);
      await a!.presence.setEntity("r2", "bob-ball", "bob", p);
      await a!.presence.setEntity("r2", "ghost-thing", "ghost", p);

      expect(await a!.presence.reapDeadNodes()).toEqual([]); // nobody dead yet
      h.clock.advance(TTL + 1);
      await hb(a!, "node-a"); // A lives on, B is silent
      const dead = await a!.presence.reapDeadNodes();
      expect(dead.length).toBe(1);
      expect(dead[0]!.node_id).toBe("node-b");
      const rooms = dead[0]!.rooms.sort((x, y) => x.room.localeCompare(y.room));
      expect(rooms.map((r) => r.room)).toEqual(["r1", "r2"]);
      expect(rooms[0]!.members.map((m) => m.connection_id).sort()).toEqual(["b-alice", "b-carol"]);
      expect(rooms[0]!.clients).toEqual(["alice"]);
      expect(rooms[0]!.entities).toEqual(["alice-hat"]);
      expect(rooms[1]!.members.map((m) => m.connection_id)).toEqual(["b-bob"]);
      expect(rooms[1]!.clients).toEqual(["bob"]);
      expect(rooms[1]!.entities).toEqual(["bob-ball"]);

      expect((await a!.presence.members("r1")).map((m) => m.connection_id)).toEqual(["a-carol"]);
      expect(await a!.presence.members("r2")).toEqual([]);
      const w1 = await a!.presence.world("r1");
      expect(w1.players.length).toBe(1); // carol's
      expect(w1.entities.length).toBe(1); // carol-box
      expect((await a!.presence.world("r2")).entities.length).toBe(1); // ghost-thing (owner not on B)
      expect((await a!.presence.nodes()).map((n) => n.node_id)).toEqual(["node-a"]);
      expect(await a!.presence.reapDeadNodes()).toEqual([]); // reported once

      // B comes back: its heartbeat says it was forgotten
      expect(await hb(b!, "node-b")).toEqual({ forgotten: true });
      expect(await hb(b!, "node-b")).toEqual({ forgotten: false });
    });

    test("exactly one survivor reaps a dead node when two race", async () => {
      const [a, b, c] = await h.nodes(3);
      const hb = (x: ClusterBackend, id: string) => x.presence.heartbeat({ node_id: id, connections: 0, last_heartbeat: 0 });
      await hb(c!, "node-c");
      for (let i = 0; i < 5; i++) await c!.presence.addMember(member("node-c", `room${i}`, `c${i}`, `client${i}`));
      h.clock.advance(TTL + 1);
      await hb(a!, "node-a");
      await hb(b!, "node-b");
      const results = await Promise.all([a!.presence.reapDeadNodes(), b!.presence.reapDeadNodes(), a!.presence.reapDeadNodes(), b!.presence.reapDeadNodes()]);
      const reports = results.flat();
      expect(reports.length).toBe(1);
      expect(reports[0]!.node_id).toBe("node-c");
      expect(reports[0]!.rooms.length).toBe(5);
      for (let i = 0; i < 5; i++) expect(await a!.presence.members(`room${i}`)).toEqual([]);
    });

    test("concurrent subscribes both resolve once the room is received", async () => {
      const [a, b] = await h.nodes(2);
      const got = collect(b!);
      await Promise.all([b!.bus.subscribe("cc"), b!.bus.subscribe("cc")]);
      a!.bus.publish("cc", u32(5));
      await waitFor(() => got.length === 1, "frame");
    });

    test("closing leaves the node list at once when the node holds no members, else it waits to be reaped", async () => {
      const [a, b, c] = await h.nodes(3);
      for (const [x, id] of [[a!, "node-a"], [b!, "node-b"], [c!, "node-c"]] as const) await x.presence.heartbeat({ node_id: id, connections: 0, last_heartbeat: 0 });
      await c!.presence.addMember(member("node-c", "stay", "c1", "cc"));
      await b!.close();
      await c!.close();
      expect((await a!.presence.nodes()).map((n) => n.node_id).sort()).toEqual(["node-a", "node-c"]);
      h.clock.advance(TTL + 1);
      await a!.presence.heartbeat({ node_id: "node-a", connections: 0, last_heartbeat: 0 });
      const dead = await a!.presence.reapDeadNodes();
      expect(dead.map((d) => [d.node_id, d.rooms.map((r) => r.room)])).toEqual([["node-c", ["stay"]]]);
    });

    test("a node never reaps itself", async () => {
      const [a] = await h.nodes(1);
      await a!.presence.heartbeat({ node_id: "node-a", connections: 0, last_heartbeat: 0 });
      await a!.presence.addMember(member("node-a", "self", "a1", "me"));
      h.clock.advance(TTL * 3);
      expect(await a!.presence.reapDeadNodes()).toEqual([]);
      expect((await a!.presence.members("self")).length).toBe(1);
    });

    test("sessions: one node puts, another reads, replaces and deletes", async () => {
      const [a, b] = await h.nodes(2);
      const s = session("s-1", "node-a", "conn-a1");
      expect(await b!.presence.getSession("s-1")).toBeUndefined();
      await a!.presence.putSession(s, 60_000);
      expect(await b!.presence.getSession("s-1")).toEqual(s);
      // detached (no connection_id), then resumed on B: the latest put wins
      const detached = session("s-1", "node-a");
      await a!.presence.putSession(detached, 60_000);
      const got = await b!.presence.getSession("s-1");
      expect(got).toEqual(detached);
      expect("connection_id" in got!).toBe(false);
      const resumed = { ...session("s-1", "node-b", "conn-b7"), user_id: "user-42" };
      await b!.presence.putSession(resumed, 60_000);
      expect(await a!.presence.getSession("s-1")).toEqual(resumed);
      // the store keeps a copy, and only the record's fields
      resumed.client_id = "mutated";
      await b!.presence.putSession({ ...session("s-2", "node-b"), extra: 1 } as SessionRecord, 60_000);
      expect((await a!.presence.getSession("s-1"))!.client_id).toBe("client-s-1");
      expect(await a!.presence.getSession("s-2")).toEqual(session("s-2", "node-b"));

      await a!.presence.deleteSession("s-1");
      await a!.presence.deleteSession("s-1"); // idempotent
      expect(await b!.presence.getSession("s-1")).toBeUndefined();
      expect(await b!.presence.getSession("s-2")).toEqual(session("s-2", "node-b"));
      await b!.presence.deleteSession("never-there");
    });

    test("sessions do not collide with rooms or nodes of the same name", async () => {
      const [a] = await h.nodes(1);
      await a!.presence.heartbeat({ node_id: "node-a", connections: 1, last_heartbeat: 0 });
      await a!.presence.addMember(member("node-a", "lobby", "conn-1", "alice"));
      await a!.log.append("lobby", chat("x"));
      for (const id of ["lobby", "node-a", "lobby}:members", "{lobby}", "@nodes"]) {
        expect(await a!.presence.getSession(id)).toBeUndefined();
        await a!.presence.putSession(session(id, "node-a"), 60_000);
        expect(await a!.presence.getSession(id)).toEqual(session(id, "node-a"));
      }
      expect((await a!.presence.members("lobby")).map((m) => m.connection_id)).toEqual(["conn-1"]);
      expect((await a!.log.head("lobby")).seq).toBe(1);
      expect((await a!.presence.nodes()).map((n) => n.node_id)).toEqual(["node-a"]);
      for (const id of ["lobby", "node-a", "lobby}:members", "{lobby}", "@nodes"]) await a!.presence.deleteSession(id);
      expect((await a!.presence.members("lobby")).length).toBe(1);
    });

    test("sessions expire after their TTL; a put starts the TTL again", async () => {
      const [a, b] = await h.nodes(2);
      await a!.presence.putSession(session("short", "node-a", "c1"), 400);
      await a!.presence.putSession(session("renewed", "node-a", "c2"), 400);
      await h.elapse(250);
      expect(await b!.presence.getSession("short")).toEqual(session("short", "node-a", "c1"));
      await a!.presence.putSession(session("renewed", "node-a"), 400);
      await h.elapse(250); // 500 ms after the first puts
      expect(await b!.presence.getSession("short")).toBeUndefined();
      expect(await b!.presence.getSession("renewed")).toEqual(session("renewed", "node-a"));
      await h.elapse(250);
      expect(await b!.presence.getSession("renewed")).toBeUndefined();
    });

    test("session arguments: bad ids are never found, a bad id or TTL on put is refused", async () => {
      const [a] = await h.nodes(1);
      expect(await a!.presence.getSession("")).toBeUndefined();
      expect(await a!.presence.getSession("x".repeat(257))).toBeUndefined();
      await a!.presence.deleteSession("");
      await expect(a!.presence.putSession(session("", "node-a"), 1000)).rejects.toBeInstanceOf(RangeError);
      await expect(a!.presence.putSession(session("x".repeat(257), "node-a"), 1000)).rejects.toBeInstanceOf(RangeError);
      for (const ttl of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(a!.presence.putSession(session("ok", "node-a"), ttl)).rejects.toBeInstanceOf(RangeError);
      }
      expect(await a!.presence.getSession("ok")).toBeUndefined();
      await a!.presence.putSession(session("x".repeat(256), "node-a"), 0.5); // rounded up to 1 ms, accepted
    });

    // last: it takes the backend away
    test("while the backend is down, session calls reject with ClusterUnavailableError (no unhandled rejection); back up, they work", async () => {
      const nodes = await h.nodes(2, { reconnectMaxDelayMs: 100, commandTimeoutMs: 1000 });
      const [a, b] = nodes;
      await a!.presence.putSession(session("down-1", "node-a", "c"), 60_000);
      const restore = await h.outage(nodes);
      try {
        await expect(a!.presence.putSession(session("down-2", "node-a"), 60_000)).rejects.toBeInstanceOf(ClusterUnavailableError);
        await expect(b!.presence.getSession("down-1")).rejects.toBeInstanceOf(ClusterUnavailableError);
        await expect(b!.presence.deleteSession("down-1")).rejects.toBeInstanceOf(ClusterUnavailableError);
      } finally {
        await restore();
      }
      await b!.presence.putSession(session("down-3", "node-b"), 60_000);
      expect(await a!.presence.getSession("down-3")).toEqual(session("down-3", "node-b"));
      await sleep(20);
      expect(unhandled).toEqual([]);
    });
  });
}
