/** The cluster contract, part 1: the bus and the room log, on every backend (see harness.ts). */
import { expect, test } from "bun:test";
import { MessageProto } from "../../src/protocol/proto.ts";
import { readU32, u32, waitFor } from "./fixtures.ts";
import { chat, collect, contractSuites } from "./harness.ts";

contractSuites("cluster contract", (h, kind) => {
    test("kind and health", async () => {
      const [a] = await h.nodes(1);
      expect(a!.kind).toBe(kind === "memory" ? "memory" : "redis");
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

    test("concurrent subscribes both resolve once the room is received", async () => {
      const [a, b] = await h.nodes(2);
      const got = collect(b!);
      await Promise.all([b!.bus.subscribe("cc"), b!.bus.subscribe("cc")]);
      a!.bus.publish("cc", u32(5));
      await waitFor(() => got.length === 1, "frame");
    });
});
