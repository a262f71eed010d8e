/** The contract of {@link RoomLog}: sequencing, history and publication of reliable frames (see harness.ts). */
import { expect, test } from "bun:test";
import type { Appended, LogEntry } from "../../src/cluster/types.ts";
import { MessageProto } from "../../src/protocol/proto.ts";
import { waitFor } from "./fixtures.ts";
import { chat, collect, type Suite } from "./harness.ts";

type Decoded = { seq: number; epoch: number; chat_message: { message: string } };
const decode = (f: Uint8Array) => MessageProto.decode(f) as unknown as Decoded;

/** The single entry of an unguarded append of one frame. */
export async function one(p: Appended | null | Promise<Appended | null>): Promise<LogEntry> {
  const r = await p;
  expect(r).not.toBeNull();
  expect(r!.entries.length).toBe(1);
  return r!.entries[0]!;
}

export const logContract: Suite = (h) => {
  test("seq strictly increasing across nodes, one epoch, frames carry seq/epoch, published to the others", async () => {
    const [a, b] = await h.nodes(2);
    const gotB = collect(b!);
    await b!.bus.subscribe("log");
    const head0 = await a!.log.head("log");
    expect(head0.seq).toBe(0);
    expect(head0.epoch).toBeGreaterThan(0);
    expect(head0.epoch).toBeLessThanOrEqual(0xffffffff);

    const first = a!.log.append("log", [chat("m1")]);
    if (h.kind === "memory") expect(first instanceof Promise).toBe(false); // synchronous
    const entries = [await one(first)];
    for (let i = 2; i <= 6; i++) entries.push(await one((i % 2 ? a! : b!).log.append("log", [chat(`m${i}`)])));
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(entries.map((e) => e.epoch))).toEqual(new Set([head0.epoch]));
    for (const [i, e] of entries.entries()) {
      const m = decode(e.frame);
      expect([m.seq, m.epoch, m.chat_message.message]).toEqual([e.seq, e.epoch, `m${i + 1}`]);
    }
    // A's appends reach B (B's own do not)
    await waitFor(() => gotB.length === 3, "appended frames on the bus");
    await h.settle();
    expect(gotB.map((g) => [...g.frame])).toEqual([entries[0]!, entries[2]!, entries[4]!].map((e) => [...e.frame]));

    expect(await a!.log.head("log")).toEqual({ epoch: head0.epoch, seq: 6 });
    const after2 = await b!.log.read("log", head0.epoch, 2, 100);
    expect(after2!.map((e) => [e.seq, e.epoch])).toEqual([3, 4, 5, 6].map((s) => [s, head0.epoch]));
    expect(after2!.map((e) => [...e.frame])).toEqual(entries.slice(2).map((e) => [...e.frame]));
    expect((await a!.log.read("log", head0.epoch, 2, 2))!.map((e) => e.seq)).toEqual([3, 4]);
    expect(await a!.log.read("log", head0.epoch, 6, 10)).toEqual([]);
    expect(await a!.log.read("log", head0.epoch, 0, 0)).toEqual([]);
    expect(await a!.log.read("log", head0.epoch ^ 1, 2, 10)).toBeNull(); // other epoch
    expect(await a!.log.read("log", head0.epoch, 7, 10)).toBeNull(); // beyond the head
    expect(await a!.log.read("log", head0.epoch, -1, 10)).toBeNull();
    expect(await a!.log.read("never-used", 1234, 0, 10)).toBeNull();
    // rooms have their own sequences
    expect((await one(a!.log.append("other", [chat("x")]))).seq).toBe(1);
  });

  test("several frames in one append get consecutive seqs and are published in order", async () => {
    const [a, b] = await h.nodes(2);
    const gotB = collect(b!);
    await b!.bus.subscribe("multi");
    await a!.log.append("multi", [chat("before")]);
    const r = await a!.log.append("multi", [chat("one"), chat("two"), chat("three")]);
    expect(r!.orphans).toEqual([]);
    const { epoch } = r!.entries[0]!;
    expect(r!.entries.map((e) => [e.seq, e.epoch, decode(e.frame).chat_message.message])).toEqual([
      [2, epoch, "one"],
      [3, epoch, "two"],
      [4, epoch, "three"],
    ]);
    for (const e of r!.entries) expect([decode(e.frame).seq, decode(e.frame).epoch]).toEqual([e.seq, epoch]);
    await b!.log.append("multi", [chat("after")]);
    expect(await a!.log.head("multi")).toEqual({ epoch, seq: 5 });
    await waitFor(() => gotB.length === 4, "four frames");
    expect(gotB.map((g) => [decode(g.frame).seq, decode(g.frame).chat_message.message])).toEqual([
      [1, "before"],
      [2, "one"],
      [3, "two"],
      [4, "three"],
    ]);
    const read = await b!.log.read("multi", epoch, 1, 10);
    expect(read!.map((e) => [e.seq, decode(e.frame).chat_message.message])).toEqual([
      [2, "one"],
      [3, "two"],
      [4, "three"],
      [5, "after"],
    ]);
  });

  test("an append of no frames changes the room and appends nothing", async () => {
    const [a, b] = await h.nodes(2);
    const gotB = collect(b!);
    await b!.bus.subscribe("empty");
    await a!.log.append("empty", [chat("x")]);
    await waitFor(() => gotB.length === 1, "the first frame");
    const before = b!.bus.counters.received;
    const r = await a!.log.append("empty", [], { players: [["p", new Uint8Array([1])]] });
    expect(r).toEqual({ entries: [], orphans: [] });
    const head = await a!.log.head("empty");
    expect(head.seq).toBe(1);
    expect((await b!.world.load("empty")).players.map((p) => [...p])).toEqual([[1]]);
    await h.settle();
    expect(gotB.length).toBe(1);
    expect(b!.bus.counters.received).toBe(before);
  });

  test("appends issued in order resolve in order, from several nodes at once", async () => {
    const [a, b] = await h.nodes(2);
    const order: string[] = [];
    const ps = [];
    for (let i = 0; i < 50; i++) {
      for (const [x, name] of [[a!, "a"], [b!, "b"]] as const) {
        ps.push(Promise.resolve(x.log.append("ord", [chat(`${name}${i}`)])).then((r) => order.push(`${name}:${r!.entries[0]!.seq}`)));
      }
    }
    await Promise.all(ps);
    for (const name of ["a", "b"]) {
      const seqs = order.filter((o) => o.startsWith(`${name}:`)).map((o) => Number(o.slice(2)));
      expect(seqs.length).toBe(50);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y)); // each node's own appends in issue order
    }
    const all = order.map((o) => Number(o.slice(2))).sort((x, y) => x - y);
    expect(all).toEqual([...Array(100).keys()].map((i) => i + 1)); // every seq once
  });

  test("history is capped: old entries are gone, the newest historySize remain", async () => {
    const [a] = await h.nodes(1, { historySize: 50 });
    const { epoch } = await a!.log.head("cap");
    const ps = [];
    for (let i = 0; i < 500; i++) ps.push(a!.log.append("cap", [chat(`${i}`)]));
    await Promise.all(ps);
    expect(await a!.log.head("cap")).toEqual({ epoch, seq: 500 });
    expect(await a!.log.read("cap", epoch, 0, 1000)).toBeNull();
    expect(await a!.log.read("cap", epoch, 100, 1000)).toBeNull();
    const tail = await a!.log.read("cap", epoch, 450, 1000);
    expect(tail!.map((e) => e.seq)).toEqual([...Array(50).keys()].map((i) => 451 + i));
    expect(tail!.map((e) => decode(e.frame).chat_message.message)).toEqual([...Array(50).keys()].map((i) => `${450 + i}`));
  });

  test("a room log idle past historyTtlMs starts a new epoch at seq 1", async () => {
    const [a] = await h.nodes(1, { historyTtlMs: 150 });
    const e1 = await one(a!.log.append("idle", [chat("1")]));
    await one(a!.log.append("idle", [chat("2")]));
    await h.elapse(400);
    const head = await a!.log.head("idle");
    expect(head.seq).toBe(0);
    expect(head.epoch).not.toBe(e1.epoch);
    const e2 = await one(a!.log.append("idle", [chat("3")]));
    expect([e2.seq, e2.epoch]).toEqual([1, head.epoch]);
    expect(await a!.log.read("idle", e1.epoch, 0, 10)).toBeNull();
    expect((await a!.log.read("idle", e2.epoch, 0, 10))!.map((e) => e.seq)).toEqual([1]);
  });

  test("appends keep the log alive: a room appended to more often than historyTtlMs keeps its epoch", async () => {
    const [a] = await h.nodes(1, { historyTtlMs: 300 });
    const e1 = await one(a!.log.append("busy", [chat("0")]));
    for (let i = 1; i <= 4; i++) {
      await h.elapse(150);
      expect((await one(a!.log.append("busy", [chat(`${i}`)]))).epoch).toBe(e1.epoch);
    }
    expect(await a!.log.head("busy")).toEqual({ epoch: e1.epoch, seq: 5 });
  });
};
