/**
 * The room log's Lua script against protobufjs: the varints it appends to a frame must decode
 * as Message.seq / Message.epoch, including values past 2^31, 2^32 and up to 2^53 (Lua numbers
 * are doubles), and the JS-built LogEntry.frame must equal what was published and stored.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { createRedisBackend, type RedisBackend } from "../../src/cluster/redis.ts";
import { EnvelopeReader, sequenced } from "../../src/cluster/shared.ts";
import { encodeBinary, MessageProto } from "../../src/protocol/proto.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { startRedis, type TestRedis } from "../helpers/redis.ts";

let redis: TestRedis;
let backend: RedisBackend;
let raw: Redis;
let spy: Redis;
const published: Buffer[] = [];

beforeAll(async () => {
  redis = await startRedis();
  backend = await createRedisBackend({ redisUrl: redis.url, nodeId: "lua-node", prefix: "luatest" });
  raw = new Redis(redis.url);
  spy = new Redis(redis.url);
  spy.on("messageBuffer", (_ch: Buffer, msg: Buffer) => published.push(msg));
  await spy.subscribe(backend.keys.room("varints").channel, backend.keys.room("multi-varints").channel);
});
afterAll(async () => {
  await backend.close();
  raw.disconnect();
  spy.disconnect();
  await redis.close();
});

const frame = (text: string) =>
  encodeBinary({ type: MessageType.CHAT_MESSAGE, message_id: "m", payload: "chat_message", chat_message: { from_client_id: "c", message: text } } as never);

const CASES: [seqBefore: number, epoch: number][] = [
  [0, 1],
  [126, 127],
  [127, 128],
  [16_383, 16_384],
  [2 ** 31 - 2, 2 ** 31 - 1],
  [2 ** 31 - 1, 2 ** 31],
  [2 ** 32 - 1, 2 ** 32 - 1],
  [2 ** 32 + 4, 3_000_000_000],
  [2 ** 40 + 12_345, 4_294_967_295],
  [2 ** 53 - 2, 0xdeadbeef],
];

test("Lua varints decode with protobufjs as seq and epoch (up to 2^53)", async () => {
  const k = backend.keys.room("varints");
  for (const [before, epoch] of CASES) {
    await raw.del(k.log, k.hist);
    await raw.hset(k.log, "epoch", String(epoch), "seq", String(before));
    const n = published.length;
    const entry = (await backend.log.append("varints", [frame(`at ${before}`)]))!.entries[0]!;
    expect(entry.seq).toBe(before + 1);
    expect(entry.epoch).toBe(epoch);

    // what the JS side built equals what Lua published and stored
    while (published.length === n) await new Promise((r) => setTimeout(r, 2));
    const env = published[n]!;
    expect(new EnvelopeReader().sender(env)).toBe("lua-node");
    const onWire = env.subarray(EnvelopeReader.payloadOffset(env));
    expect([...onWire]).toEqual([...entry.frame]);
    expect([...entry.frame]).toEqual([...sequenced(frame(`at ${before}`), before + 1, epoch)]);

    const m = MessageProto.decode(onWire) as unknown as { seq: number; epoch: number; chat_message: { message: string } };
    expect(m.seq).toBe(before + 1);
    expect(m.epoch).toBe(epoch);
    expect(m.chat_message.message).toBe(`at ${before}`);

    const stored = await backend.log.read("varints", epoch, before, 10);
    expect(stored!.length).toBe(1);
    expect(stored![0]!.seq).toBe(before + 1);
    expect([...stored![0]!.frame]).toEqual([...entry.frame]);
    expect(await backend.log.head("varints")).toEqual({ epoch, seq: before + 1 });
  }
});

test("the stream entry id is <seq>-0 and the keys expire after the idle window", async () => {
  const k = backend.keys.room("ids");
  await backend.log.append("ids", [frame("a")]);
  await backend.log.append("ids", [frame("b"), frame("c")]);
  await backend.log.append("ids", [], { players: [["p", new Uint8Array([1])]] }); // no entry
  const ids = (await raw.xrange(k.hist, "-", "+")).map(([id]) => id);
  expect(ids).toEqual(["1-0", "2-0", "3-0"]);
  const ttl = await raw.pttl(k.log);
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(120_000);
  expect(await raw.pttl(k.hist)).toBeGreaterThan(0);
});

test("a lost log (flushed Redis) gets a new epoch and restarts at seq 1", async () => {
  const e1 = (await backend.log.append("flushme", [frame("x")]))!.entries[0]!;
  await raw.flushall();
  const e2 = (await backend.log.append("flushme", [frame("y")]))!.entries[0]!;
  expect(e2.seq).toBe(1);
  expect(e2.epoch).not.toBe(e1.epoch);
  expect(await backend.log.read("flushme", e1.epoch, 0, 10)).toBeNull();
});

test("head creates the epoch that the first append then uses", async () => {
  const h = await backend.log.head("fresh");
  expect(h.seq).toBe(0);
  expect(h.epoch).toBeGreaterThan(0);
  expect(await backend.log.read("fresh", h.epoch, 0, 10)).toEqual([]);
  const e = (await backend.log.append("fresh", [frame("1")]))!.entries[0]!;
  expect(e.epoch).toBe(h.epoch);
});

test("several frames in one append across varint boundaries: each seq encoded by Lua as JS encodes it", async () => {
  const k = backend.keys.room("multi-varints");
  for (const [before, epoch] of [[125, 7], [16_382, 300], [2 ** 32 - 2, 2 ** 32 - 1], [2 ** 53 - 4, 1]] as const) {
    await raw.del(k.log, k.hist);
    await raw.hset(k.log, "epoch", String(epoch), "seq", String(before));
    const n = published.length;
    const texts = ["a", "b", "c"];
    const r = await backend.log.append("multi-varints", texts.map(frame));
    expect(r!.entries.map((e) => e.seq)).toEqual([before + 1, before + 2, before + 3]);
    while (published.length < n + 1) await new Promise((res) => setTimeout(res, 2));
    await new Promise((res) => setTimeout(res, 20));
    // the script publishes each entry on its own, in order
    const wire = published.slice(n).map((env) => env.subarray(EnvelopeReader.payloadOffset(env)));
    expect(wire.map((w) => [...w])).toEqual(r!.entries.map((e) => [...e.frame]));
    for (const [i, e] of r!.entries.entries()) {
      expect([...e.frame]).toEqual([...sequenced(frame(texts[i]!), before + 1 + i, epoch)]);
      const m = MessageProto.decode(e.frame) as unknown as { seq: number; epoch: number };
      expect([m.seq, m.epoch]).toEqual([before + 1 + i, epoch]);
    }
    const stored = await backend.log.read("multi-varints", epoch, before, 10);
    expect(stored!.map((e) => [...e.frame])).toEqual(r!.entries.map((e) => [...e.frame]));
  }
});
