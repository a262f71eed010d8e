/** What only the memory backend does (sync answers, delivery modes, simulated outage, age-trimmed history), and the shared byte helpers. */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { createClusterBackend, MemoryBroker, ClusterUnavailableError } from "../../src/cluster/index.ts";
import { decodeHolder, dueKey, encodeHolder, ENVELOPE_BATCH, envelopeHeader, EnvelopeReader, forEachBatched, parseDueKey, sequenced } from "../../src/cluster/shared.ts";
import type { BackendStatus, Holder } from "../../src/cluster/types.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { encodeBinary, MessageProto } from "../../src/protocol/proto.ts";
import { MessageType } from "../../src/protocol/types.ts";

const frame = () => encodeBinary({ type: MessageType.CHAT_MESSAGE, payload: "chat_message", chat_message: { from_client_id: "c", message: "hi" } } as never);

test("createClusterBackend without a Redis URL is a memory node on its own broker", async () => {
  const b = await createClusterBackend({ nodeId: "solo" });
  expect(b.kind).toBe("memory");
  // the log, world and claims answer synchronously (no promise, no microtask)
  const e = b.log.append("r", [frame()]);
  expect(e instanceof Promise).toBe(false);
  expect((e as { entries: { seq: number }[] }).entries[0]!.seq).toBe(1);
  for (const v of [b.log.head("r"), b.log.read("r", 1, 0, 1), b.world.load("r"), b.claims.claim("r", "c", { user: null, token: "t", node: "solo", conn: "t" }), b.claims.sessionClient("r", "s"), b.claims.due(0, 1)]) {
    expect(v instanceof Promise).toBe(false);
  }
  await b.close();
});

test("microtask delivery: nothing arrives synchronously, flush() delivers at once in order", async () => {
  const broker = new MemoryBroker();
  const a = broker.node("a");
  const b = broker.node("b");
  const got: number[] = [];
  b.bus.onFrame((_r, f) => got.push(f[0]!));
  await b.bus.subscribe("r");
  a.bus.publish("r", new Uint8Array([1]));
  a.log.append("r", [new Uint8Array([2])]);
  expect(got).toEqual([]);
  broker.flush();
  expect(got).toEqual([1, 2]);
  a.bus.publish("r", new Uint8Array([3]));
  await Promise.resolve();
  expect(got).toEqual([1, 2, 3]);
});

test("sync delivery reaches the other node before publish returns", async () => {
  const broker = new MemoryBroker({ delivery: "sync" });
  const a = broker.node("a");
  const b = broker.node("b");
  const got: string[] = [];
  b.bus.onFrame((r, _f, from) => got.push(`${r}:${from}`));
  await b.bus.subscribe("r");
  a.bus.publish("r", new Uint8Array([1]));
  expect(got).toEqual(["r:a"]);
});

test("manual delivery: frames wait for deliver(); one sender's frames to one receiver never overtake, others may", async () => {
  const broker = new MemoryBroker({ delivery: "manual" });
  const [a, b, c] = ["a", "b", "c"].map((id) => broker.node(id));
  const got: string[] = [];
  c!.bus.onFrame((_r, f, from) => got.push(`${from}${f[0]}`));
  await c!.bus.subscribe("r");
  a!.bus.publish("r", new Uint8Array([1]));
  a!.bus.publish("r", new Uint8Array([2]));
  b!.bus.publish("r", new Uint8Array([1]));
  await Promise.resolve();
  expect(got).toEqual([]);
  expect(broker.pending.length).toBe(3);
  // a's second frame is not eligible while its first waits; b's may go first
  expect(broker.deliver((f) => f.frame[0] === 2)).toBeUndefined();
  expect(broker.deliver((f) => f.from === "b")?.from).toBe("b");
  expect(broker.deliver(() => true)?.frame[0]).toBe(1);
  expect(got).toEqual(["b1", "a1"]);
  a!.bus.publish("r", new Uint8Array([3]));
  broker.dropPending("a"); // a died: its frames in flight are gone
  broker.flush();
  expect(got).toEqual(["b1", "a1"]);
});

test("holder records, due keys and batch envelopes round-trip; malformed ones are refused", () => {
  const holders: Holder[] = [
    { user: "alice", token: "s1", node: "n1", conn: "c1" },
    { user: null, token: "t", node: "n" },
    { user: "ünï", token: "s", node: "n", detachedUntil: 1_700_000_000_123 },
  ];
  for (const h of holders) expect(decodeHolder(encodeHolder(h))).toEqual(h);
  for (const bad of ["", "{", "null", '{"t":1,"n":"x"}', '{"t":"x"}']) expect(decodeHolder(bad)).toBeUndefined();
  expect(parseDueKey(dueKey("room:1", "client", "tok"))).toEqual({ room: "room:1", clientId: "client", token: "tok" });
  for (const bad of ["a", "a\nb", "a\nb\nc\nd"]) expect(parseDueKey(bad)).toBeUndefined();
  const frames: number[][] = [];
  expect(forEachBatched(new Uint8Array([2, 7, 8, 0, 1, 9]), (f) => frames.push([...f]))).toBe(true);
  expect(frames).toEqual([[7, 8], [], [9]]);
  expect(forEachBatched(new Uint8Array([5, 1]), () => {})).toBe(false);
  expect(ENVELOPE_BATCH).toBe(0xc2);
});

test("setAvailable(false) simulates an outage: publish drops, log/world/claims throw, members/nodes reject, onStatus fires", async () => {
  const broker = new MemoryBroker();
  const a = broker.node("a");
  const seen: BackendStatus[] = [];
  a.onStatus((s) => seen.push(s));
  broker.setAvailable(false, "Simulated outage");
  expect(a.status()).toEqual({ healthy: false, reason: "Simulated outage" });
  expect(() => a.bus.publish("r", new Uint8Array([1]))).not.toThrow();
  expect(a.bus.counters.dropped).toBe(1);
  expect(() => a.log.append("r", [new Uint8Array([1])])).toThrow(ClusterUnavailableError);
  expect(() => a.world.load("r")).toThrow(ClusterUnavailableError);
  expect(() => a.claims.claim("r", "c", { user: null, token: "t", node: "a" })).toThrow(ClusterUnavailableError);
  await expect(a.members.list("r")).rejects.toBeInstanceOf(ClusterUnavailableError);
  await expect(a.nodes.reap(1)).rejects.toBeInstanceOf(ClusterUnavailableError);
  broker.setAvailable(true);
  expect(seen).toEqual([{ healthy: false, reason: "Simulated outage" }, { healthy: true }]);
  expect(a.bus.counters.reconnects).toBe(1);
  expect(a.log.append("r", [new Uint8Array([1])])!.entries[0]!.seq).toBe(1);
});

test("history drops entries older than historyTtlMs while the room stays active", () => {
  const clock = new ManualClock();
  const broker = new MemoryBroker({ clock, historyTtlMs: 1000, historySize: 100 });
  const a = broker.node("a");
  const e1 = a.log.append("r", [new Uint8Array([1])])!.entries[0]!;
  clock.advance(600);
  a.log.append("r", [new Uint8Array([2])]);
  clock.advance(600); // entry 1 is 1200 ms old, entry 2 600 ms
  expect(a.log.read("r", e1.epoch, 0, 10)).toBeNull();
  expect(a.log.read("r", e1.epoch, 1, 10)!.map((e) => e.seq)).toEqual([2]);
  expect(a.log.head("r")).toEqual({ epoch: e1.epoch, seq: 2 });
});

test("JS varints decode with protobufjs for any seq ≤ 2^53 and uint32 epoch", () => {
  const base = frame();
  fc.assert(
    fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 0xffffffff }), (seq, epoch) => {
      const m = MessageProto.decode(sequenced(base, seq, epoch)) as unknown as { seq: number; epoch: number };
      return m.seq === seq && m.epoch === epoch;
    }),
    { numRuns: 2000 },
  );
});

test("envelope: sender id round-trips without re-decoding known ids; malformed frames are refused", () => {
  const r = new EnvelopeReader();
  for (const id of ["a", "node-1", "ünïcode-node", "x".repeat(255)]) {
    const h = envelopeHeader(id);
    const env = new Uint8Array(h.length + 3);
    env.set(h);
    env.set([7, 8, 9], h.length);
    expect(r.sender(env)).toBe(id);
    expect(r.sender(env)).toBe(id);
    expect([...env.subarray(EnvelopeReader.payloadOffset(env))]).toEqual([7, 8, 9]);
  }
  expect(r.sender(new Uint8Array([]))).toBeNull();
  expect(r.sender(new Uint8Array([0x42, 1, 65]))).toBeNull();
  expect(r.sender(new Uint8Array([0xc1, 5, 65]))).toBeNull();
  expect(() => envelopeHeader("")).toThrow();
  expect(() => envelopeHeader("x".repeat(256))).toThrow();
});
