/** The contract of {@link RoomBus}: per-room publish/subscribe between nodes (see harness.ts). */
import { expect, test } from "bun:test";
import type { RoomBus } from "../../src/cluster/types.ts";
import { MessageProto } from "../../src/protocol/proto.ts";
import { readU32, u32, waitFor } from "./fixtures.ts";
import { chat, collect, type Suite } from "./harness.ts";

export const busContract: Suite = (h) => {
  test("kind and health", async () => {
    const [a] = await h.nodes(1);
    expect(a!.kind).toBe(h.kind === "memory" ? "memory" : "redis");
    expect(a!.status()).toEqual({ healthy: true });
    expect(a!.nodeId).toBe("node-a");
    const bus: RoomBus = a!.bus;
    expect(bus.counters).toEqual({ published: 0, received: 0, dropped: 0, errors: 0, reconnects: 0 });
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
    expect(got.map((g) => readU32(g.frame))).toEqual([...Array(1000).keys()]);
    expect(got[999]!.frame.length).toBe(204);
  });

  test("bus frames and log appends of one node reach another in the order they were issued", async () => {
    const [a, b] = await h.nodes(2);
    const got = collect(b!);
    await b!.bus.subscribe("mixed");
    const sent: string[] = [];
    const appends: unknown[] = [];
    for (let i = 0; i < 30; i++) {
      if (i % 3 === 1) {
        appends.push(a!.log.append("mixed", [chat(`log ${i}`)])); // not awaited: issued in order
        sent.push(`log ${i}`);
      } else {
        a!.bus.publish("mixed", chat(`bus ${i}`));
        sent.push(`bus ${i}`);
      }
    }
    await Promise.all(appends);
    await waitFor(() => got.length === 30, "30 frames");
    const seen = got.map((g) => (MessageProto.decode(g.frame) as unknown as { chat_message: { message: string } }).chat_message.message);
    expect(seen).toEqual(sent);
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

  test("concurrent subscribes both resolve once the room is received", async () => {
    const [a, b] = await h.nodes(2);
    const got = collect(b!);
    await Promise.all([b!.bus.subscribe("cc"), b!.bus.subscribe("cc")]);
    a!.bus.publish("cc", u32(5));
    await waitFor(() => got.length === 1, "frame");
  });

  test("a throwing receiver is contained and counted; the frames after it still arrive", async () => {
    const [a, b] = await h.nodes(2);
    const got: number[] = [];
    b!.bus.onFrame((_room, frame) => {
      if (readU32(frame) === 1) throw new Error("receiver failed");
      got.push(readU32(frame));
    });
    await b!.bus.subscribe("boom");
    a!.bus.publish("boom", u32(1));
    a!.bus.publish("boom", u32(2)); // same tick: Redis sends both in one batch envelope
    await h.settle();
    a!.bus.publish("boom", u32(3));
    await waitFor(() => got.length === 2, "the frames after the failure");
    expect(got).toEqual([2, 3]);
    expect(b!.bus.counters.errors).toBe(1);
    expect(b!.bus.counters.received).toBe(3);
  });
};
