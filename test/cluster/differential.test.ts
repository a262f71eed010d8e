/**
 * Memory and Redis must agree: random sequences of calls (claims, detaches, due holds, guarded
 * appends with room changes, loads, poses, members, heartbeats and reaps, time moving on) run
 * on two nodes of the memory broker and on two nodes of a private redis-server, and every
 * answer must be the same (epochs are random, so only seqs are compared). fast-check shrinks a
 * disagreement to a short sequence: fix it and add it to the contract suites as a fixed case.
 * DIFF_RUNS=3000 searches harder (about 20 s). It catches, for instance, the stale due entries
 * Redis once listed (see contract-claims.ts).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { createClusterBackend, MemoryBroker } from "../../src/cluster/index.ts";
import type { ClusterBackend, DeadNode, Holder, RoomChange } from "../../src/cluster/types.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { startRedis, type TestRedis } from "../helpers/redis.ts";
import { bytes, member, texts } from "./fixtures.ts";

const TTL = 10_000;
/** Memory expires logs by the manual clock, Redis by real time: long enough for neither to expire one. */
const HISTORY_TTL = 3_600_000;
let redis: TestRedis;
let run = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.close();
});

const room = fc.constantFrom("r1", "r2");
const client = fc.constantFrom("c1", "c2", "c3");
const user = fc.constantFrom<string | null>("u1", "u2", null);
const token = fc.constantFrom("t1", "t2", "t3");
const conn = fc.constantFrom("k1", "k2", "k3");
const node = fc.constantFrom(0, 1);
const entity = fc.constantFrom("e1", "e2", "e3");

/** One call, as data (so fast-check can print and shrink it). */
type Op =
  | { op: "claim"; node: number; room: string; client: string; user: string | null; token: string; conn?: string; session: boolean }
  | { op: "sessionClient"; node: number; room: string; token: string }
  | { op: "detach"; node: number; room: string; client: string; token: string; conn: string; window: number }
  | { op: "due"; node: number; limit: number }
  | { op: "done"; node: number; room: string; client: string; token: string }
  | { op: "append"; node: number; room: string; frames: number; change: RoomChange }
  | { op: "load"; node: number; room: string }
  | { op: "read"; node: number; room: string; after: number; limit: number }
  | { op: "setPose"; node: number; room: string; kind: "player" | "entity"; id: string }
  | { op: "member"; node: number; room: string; conn: string; client: string; add: boolean }
  | { op: "heartbeat"; node: number; rooms: string[] }
  | { op: "reap"; node: number; window: number }
  | { op: "advance"; ms: number };

const guard = fc.record(
  { clientId: client, token: fc.oneof(token, conn), conn: conn, detached: fc.boolean() },
  { requiredKeys: ["clientId", "token"] },
);
const change: fc.Arbitrary<RoomChange> = fc.record(
  {
    guard,
    release: fc.boolean(),
    players: fc.array(fc.tuple(client, fc.constant(bytes("p"))), { maxLength: 2 }),
    entities: fc.array(fc.tuple(entity, client, fc.constant(bytes("e"))), { maxLength: 2 }),
    despawn: fc.array(entity, { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant("claim" as const), node, room, client, user, token: fc.oneof(token, conn), conn: conn, session: fc.boolean() }, { requiredKeys: ["op", "node", "room", "client", "user", "token", "session"] }), weight: 4 },
  fc.record({ op: fc.constant("sessionClient" as const), node, room, token }),
  { arbitrary: fc.record({ op: fc.constant("detach" as const), node, room, client, token, conn, window: fc.integer({ min: 0, max: 3000 }) }), weight: 3 },
  fc.record({ op: fc.constant("due" as const), node, limit: fc.constant(100) }),
  fc.record({ op: fc.constant("done" as const), node, room, client, token }),
  { arbitrary: fc.record({ op: fc.constant("append" as const), node, room, frames: fc.integer({ min: 0, max: 2 }), change }), weight: 4 },
  fc.record({ op: fc.constant("load" as const), node, room }),
  fc.record({ op: fc.constant("read" as const), node, room, after: fc.integer({ min: -1, max: 6 }), limit: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant("setPose" as const), node, room, kind: fc.constantFrom("player" as const, "entity" as const), id: fc.oneof(client, entity) }),
  fc.record({ op: fc.constant("member" as const), node, room, conn, client, add: fc.boolean() }),
  fc.record({ op: fc.constant("heartbeat" as const), node, rooms: fc.subarray(["r1", "r2"]) }),
  fc.record({ op: fc.constant("reap" as const), node, window: fc.integer({ min: 0, max: 3000 }) }),
  { arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.constantFrom(500, 2000, TTL + 1) }), weight: 2 },
);

const sortedHolders = (m: Map<string, Holder>) => [...m].sort(([p], [q]) => p.localeCompare(q));
const tidy = (d: DeadNode) => ({
  node: d.node_id,
  rooms: d.rooms
    .map((r) => ({ room: r.room, members: r.members.map((m) => m.connection_id).sort(), departed: r.departed.map((x) => `${x.clientId}/${x.token}`).sort() }))
    .sort((p, q) => p.room.localeCompare(q.room)),
});

/** Runs one call on one node and returns what it answered, in a comparable form. */
async function apply(x: ClusterBackend, o: Op, clock: ManualClock): Promise<unknown> {
  switch (o.op) {
    case "claim":
      return x.claims.claim(o.room, o.client, { user: o.user, token: o.token, node: x.nodeId, conn: o.conn }, o.session ? o.token : undefined);
    case "sessionClient":
      return x.claims.sessionClient(o.room, o.token);
    case "detach":
      return x.claims.detach(o.room, o.client, o.token, o.conn, clock.now() + o.window);
    case "due":
      return (await x.claims.due(clock.now(), o.limit)).map((d) => `${d.room}/${d.clientId}/${d.token}`).sort();
    case "done":
      return x.claims.done({ room: o.room, clientId: o.client, token: o.token });
    case "append": {
      const r = await x.log.append(o.room, Array.from({ length: o.frames }, () => bytes("f")), o.change);
      return r && { seqs: r.entries.map((e) => e.seq), orphans: r.orphans.sort() };
    }
    case "load": {
      const s = await x.world.load(o.room);
      return { seq: s.seq, players: texts(s.players), entities: texts(s.entities), holders: sortedHolders(s.holders) };
    }
    case "read": {
      const h = await x.log.head(o.room);
      const r = await x.log.read(o.room, h.epoch, o.after, o.limit);
      return { seq: h.seq, read: r && r.map((e) => e.seq) };
    }
    case "setPose":
      return x.world.setPose(o.room, o.kind, o.id, bytes(`pose ${o.id}`));
    case "member":
      if (o.add) await x.members.add(member(x.nodeId, o.room, `${x.nodeId}-${o.conn}`, o.client));
      else await x.members.remove(o.room, `${x.nodeId}-${o.conn}`);
      return (await x.members.list(o.room)).map((m) => m.connection_id).sort();
    case "heartbeat":
      return x.nodes.heartbeat({ node_id: x.nodeId, connections: 0, last_heartbeat: 0 }, o.rooms);
    case "reap":
      return (await x.nodes.reap(o.window)).map(tidy);
    case "advance":
      clock.advance(o.ms);
      return undefined;
  }
}

/** What a call answered, or the name of what it threw. */
const outcome = (p: () => unknown) =>
  Promise.resolve()
    .then(p)
    .then(
      (v) => ({ ok: v }),
      (e: Error) => ({ threw: e?.name ?? String(e) }),
    );

async function compare(ops: Op[]): Promise<void> {
  const clock = new ManualClock(Date.now());
  const broker = new MemoryBroker({ clock, nodeTtlMs: TTL, historyTtlMs: HISTORY_TTL, delivery: "sync" });
  const prefix = `diff${++run}`;
  const names = ["node-a", "node-b"];
  const mem = await Promise.all(names.map((nodeId) => createClusterBackend({ nodeId, broker })));
  const red = await Promise.all(names.map((nodeId) => createClusterBackend({ nodeId, redisUrl: redis.url, prefix, clock, nodeTtlMs: TTL, historyTtlMs: HISTORY_TTL })));
  try {
    for (const [i, o] of ops.entries()) {
      const n = "node" in o ? o.node : 0;
      const m = await outcome(() => apply(mem[n]!, o, clock));
      const r = await outcome(() => apply(red[n]!, o, o.op === "advance" ? new ManualClock() : clock)); // time moves once
      expect({ step: i, op: o, redis: r }).toEqual({ step: i, op: o, redis: m });
    }
  } finally {
    await Promise.all([...mem, ...red].map((b) => b.close()));
  }
}

test("random call sequences: memory and Redis answer the same", async () => {
  await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), compare), { numRuns: Number(process.env.DIFF_RUNS ?? 40) });
}, 60_000);
