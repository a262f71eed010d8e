/** What only the memory backend does (sync answers, delivery modes, simulated outage), and the shared byte helpers. */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { ManualClock } from "../../src/core/clock.ts";
import { createClusterBackend, MemoryBroker, ClusterUnavailableError } from "../../src/cluster/index.ts";
import { envelopeHeader, EnvelopeReader, sequenced } from "../../src/cluster/shared.ts";
import type { BackendStatus } from "../../src/cluster/types.ts";
import { encodeBinary, MessageProto } from "../../src/protocol/proto.ts";
import { MessageType } from "../../src/protocol/types.ts";

const frame = () => encodeBinary({ type: MessageType.CHAT_MESSAGE, payload: "chat_message", chat_message: { from_client_id: "c", message: "hi" } } as never);

test("createClusterBackend without a Redis URL is a memory node on its own broker", async () => {
  const b = await createClusterBackend({ nodeId: "solo" });
  expect(b.kind).toBe("memory");
  const e = b.log.append("r", frame());
  expect(e instanceof Promise).toBe(false);
  expect((e as { seq: number }).seq).toBe(1);
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
  a.log.append("r", new Uint8Array([2]));
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

test("a throwing receiver is contained and counted", async () => {
  const broker = new MemoryBroker({ delivery: "sync" });
  const a = broker.node("a");
  const b = broker.node("b");
  b.bus.onFrame(() => {
    throw new Error("boom");
  });
  await b.bus.subscribe("r");
  expect(() => a.bus.publish("r", new Uint8Array([1]))).not.toThrow();
  expect(b.bus.counters.errors).toBe(1);
  expect(b.bus.counters.received).toBe(1);
});

test("setAvailable(false) simulates an outage: publish drops, append throws, presence rejects, onStatus fires", async () => {
  const broker = new MemoryBroker();
  const a = broker.node("a");
  const seen: BackendStatus[] = [];
  a.bus.onStatus((s) => seen.push(s));
  broker.setAvailable(false, "Simulated outage");
  expect(a.bus.status()).toEqual({ healthy: false, reason: "Simulated outage" });
  expect(() => a.bus.publish("r", new Uint8Array([1]))).not.toThrow();
  expect(a.bus.counters.dropped).toBe(1);
  expect(() => a.log.append("r", new Uint8Array([1]))).toThrow(ClusterUnavailableError);
  await expect(a.presence.members("r")).rejects.toBeInstanceOf(ClusterUnavailableError);
  broker.setAvailable(true);
  expect(seen).toEqual([{ healthy: false, reason: "Simulated outage" }, { healthy: true }]);
  expect(a.bus.counters.reconnects).toBe(1);
  expect(a.log.append("r", new Uint8Array([1])).seq).toBe(1);
});

test("history drops entries older than historyTtlMs while the room stays active", () => {
  const clock = new ManualClock();
  const broker = new MemoryBroker({ clock, historyTtlMs: 1000, historySize: 100 });
  const a = broker.node("a");
  const e1 = a.log.append("r", new Uint8Array([1]));
  clock.advance(600);
  a.log.append("r", new Uint8Array([2]));
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
