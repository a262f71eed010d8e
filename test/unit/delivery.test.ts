/** Delivery units with an injected clock: queue and coalescing, resend schedule, sessions, slow consumers. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { retryDelay } from "../../src/delivery/acks.ts";
import { decodeFrame, encodeFrame, FrameKind } from "../../src/delivery/frames.ts";
import { SendQueue } from "../../src/lib/send-queue.ts";
import { SendResult } from "../../src/lib/transport.ts";
import { MessageType, type Envelope } from "../../src/protocol/types.ts";
import { memoryHub } from "../helpers/hub.ts";

const chat = (text: string) => JSON.stringify({ type: "CHAT_MESSAGE", message: text });
const pos = (entity: string, x: number) => JSON.stringify({ type: "POSITION_UPDATE", entity_id: entity, position: { x, y: 0, z: 0 } });
const texts = (ms: Envelope[]) => ms.map((m) => m.chat_message?.message);

describe("SendQueue", () => {
  test("keeps order, coalesces by key (latest wins, at the latest position), counts bytes", () => {
    const q = new SendQueue();
    q.push("a", 1);
    q.push("p1", 2, "e1");
    q.push("b", 1);
    q.push("p2", 2, "e1");
    q.push("q1", 2, "e2");
    expect(q.length).toBe(4);
    expect(q.bytes).toBe(6);
    expect(q.coalesced).toBe(1);
    const out: string[] = [];
    q.flush((f) => (out.push(f as string), true));
    expect(out).toEqual(["a", "b", "p2", "q1"]);
    expect(q.length + q.bytes).toBe(0);
  });
  test("flush stops when the socket is full and resumes where it stopped", () => {
    const q = new SendQueue();
    for (let i = 0; i < 5; i++) q.push(`f${i}`, 1);
    const out: string[] = [];
    expect(q.flush((f) => (out.push(f as string), out.length < 2))).toBe(2);
    expect(q.length).toBe(3);
    q.flush((f) => (out.push(f as string), true));
    expect(out).toEqual(["f0", "f1", "f2", "f3", "f4"]);
  });
});

describe("frames and schedule", () => {
  test("the frame header round-trips and the payload is a view", () => {
    const payload = new Uint8Array([1, 2, 3]);
    const f = decodeFrame(encodeFrame({ reliable: true, kind: FrameKind.Typed, sender: "ann", only: "bob ✓" }, payload));
    expect(f).toMatchObject({ reliable: true, kind: FrameKind.Typed, sender: "ann", only: "bob ✓" });
    expect([...f.payload]).toEqual([1, 2, 3]);
  });
  test("the frame header holds any ids byte for byte as TextEncoder writes them (ASCII, UTF-8, lone surrogates)", () => {
    const enc = new TextEncoder();
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 12 }), fc.string({ unit: fc.constantFrom("a", "é", "\ud800", "\udc00", "😀"), maxLength: 8 }), fc.boolean(), (sender, only, reliable) => {
      const frame = encodeFrame({ reliable, kind: FrameKind.RawText, sender, only }, new Uint8Array([7]));
      const s = enc.encode(sender), o = enc.encode(only);
      const want = [(reliable ? 1 : 0) | (FrameKind.RawText << 4), s.length, ...s, o.length, ...o, 7];
      if (s.length < 128 && o.length < 128) expect([...frame]).toEqual(want);
      expect(decodeFrame(frame)).toMatchObject({ sender: new TextDecoder().decode(s), only: new TextDecoder().decode(o) });
    }), { numRuns: 500 });
  });
  test("resends back off exponentially from ACK_TIMEOUT_MS", () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(n, 3000))).toEqual([6000, 12000, 24000, 48000, 96000]);
  });
});

describe("acknowledged delivery (memory hub, manual clock)", () => {
  const setup = () => {
    const h = memoryHub({ ackTimeoutMs: 1000, maxRetries: 2, resumeWindowMs: 5000 });
    const sender = h.open("r", "s");
    const rel = h.open("r", "rel", { reliable: true });
    return { ...h, sender, rel };
  };

  test("reliable messages carry increasing seq; the hello says session, epoch and position", () => {
    const { sender, rel } = setup();
    const hello = JSON.parse(rel.t.sent[0] as string);
    expect(hello.session_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(hello.resumed).toBe(false);
    sender.conn.message(chat("one"));
    sender.conn.message(pos("s", 1));
    sender.conn.message(chat("two"));
    const chats = rel.ofType(MessageType.CHAT_MESSAGE);
    expect(chats.map((m) => m.seq)).toEqual([chats[0].seq, chats[0].seq! + 1]);
    expect(chats[0].epoch).toBe(hello.epoch);
    expect(rel.ofType(MessageType.POSITION_UPDATE)[0].seq ?? 0).toBe(0);
  });

  test("unacknowledged messages are resent with the same seq and backoff, then the connection is closed 4104", () => {
    const { hub, clock, sender, rel } = setup();
    sender.conn.message(chat("hello?"));
    const first = rel.ofType(MessageType.CHAT_MESSAGE)[0];
    const sweep = () => hub.acks.sweep(clock.now());
    sweep(); // starts the timer
    clock.advance(999);
    sweep();
    expect(rel.ofType(MessageType.CHAT_MESSAGE).length).toBe(1);
    clock.advance(1);
    sweep();
    expect(rel.ofType(MessageType.CHAT_MESSAGE).map((m) => m.seq)).toEqual([first.seq, first.seq]);
    clock.advance(1999);
    sweep();
    expect(rel.ofType(MessageType.CHAT_MESSAGE).length).toBe(2);
    clock.advance(1);
    sweep(); // second resend, after 2 × ACK_TIMEOUT_MS
    expect(rel.ofType(MessageType.CHAT_MESSAGE).length).toBe(3);
    clock.advance(4000);
    sweep(); // out of retries
    expect(rel.t.closedWith?.code).toBe(4104);
    expect(hub.metrics.delivery.retries).toBe(2);
  });

  test("a reliable client that only sends is never closed when its own messages outrun the room history", () => {
    const h = memoryHub({ ackTimeoutMs: 1000, maxRetries: 2, resumeWindowMs: 5000, historySize: 16 });
    const talker = h.open("r", "talker", { reliable: true });
    const listener = h.open("r", "listener", { reliable: true });
    const join = talker.ofType(MessageType.PRESENCE_JOIN).at(-1)!;
    talker.conn.message(JSON.stringify({ type: "ACK", seq: join.seq })); // it has everything owed to it
    for (let i = 0; i < 40; i++) talker.conn.message(chat(`m${i}`)); // 40 > HISTORY_SIZE, no ACK after them
    const got = listener.ofType(MessageType.CHAT_MESSAGE);
    listener.conn.message(JSON.stringify({ type: "ACK", seq: got.at(-1)!.seq }));
    for (let i = 0; i < 6; i++) {
      h.hub.acks.sweep(h.clock.now());
      h.clock.advance(1000);
    }
    expect([talker.t.closedWith, listener.t.closedWith, got.length]).toEqual([undefined, undefined, 40]); // nothing was owed to the talker
  });

  test("an ACK stops the resends; own messages are never owed", () => {
    const { hub, clock, sender, rel } = setup();
    sender.conn.message(chat("x"));
    rel.conn.message(chat("mine")); // the reliable client's own message: not owed to it
    const seq = rel.ofType(MessageType.CHAT_MESSAGE)[0].seq!;
    rel.conn.message(JSON.stringify({ type: "ACK", seq }));
    for (let i = 0; i < 5; i++) {
      hub.acks.sweep(clock.now());
      clock.advance(1000);
    }
    expect(rel.ofType(MessageType.CHAT_MESSAGE).length).toBe(1);
    expect(rel.t.closedWith).toBeUndefined();
  });

  test("a dropped reliable client resumes: missed messages once, in order, no presence blip", () => {
    const { hub, open, sender, rel } = setup();
    const watcher = open("r", "w");
    sender.conn.message(chat("before"));
    const hello = JSON.parse(rel.t.sent[0] as string);
    const lastSeq = rel.ofType(MessageType.CHAT_MESSAGE)[0].seq!;
    rel.conn.closed(1006, "");
    sender.conn.message(chat("during-1"));
    sender.conn.message(chat("during-2"));
    const back = open("r", "someone-else", { reliable: true, resume: { sessionId: hello.session_id, lastSeq, epoch: hello.epoch } });
    const h2 = JSON.parse(back.t.sent[0] as string);
    expect(h2).toMatchObject({ resumed: true, session_id: hello.session_id, client_id: "rel" });
    expect(texts(back.ofType(MessageType.CHAT_MESSAGE))).toEqual(["during-1", "during-2"]);
    expect(watcher.ofType(MessageType.PRESENCE_LEAVE).length + watcher.ofType(MessageType.PRESENCE_JOIN).length).toBe(0);
    expect(hub.metrics.delivery.resumes).toBe(1);
  });

  test("an unknown or expired session gets a new one with resumed: false; expiry finally tells the room", () => {
    const { clock, sweep, open, rel } = setup();
    const watcher = open("r", "w");
    const hello = JSON.parse(rel.t.sent[0] as string);
    rel.conn.closed(1006, "");
    clock.advance(4999);
    sweep();
    expect(watcher.ofType(MessageType.PRESENCE_LEAVE)).toEqual([]); // no leave while the window is open
    clock.advance(2);
    sweep();
    expect(watcher.ofType(MessageType.PRESENCE_LEAVE).map((m) => m.presence_event!.client_id)).toEqual(["rel"]);
    const late = open("r", "new-id", { reliable: true, resume: { sessionId: hello.session_id, lastSeq: 0 } });
    expect(JSON.parse(late.t.sent[0] as string)).toMatchObject({ resumed: false, client_id: "new-id" });
    const bogus = open("r", "x", { reliable: true, resume: { sessionId: "nope", lastSeq: 0 } });
    expect(JSON.parse(bogus.t.sent[0] as string).resumed).toBe(false);
  });

  test("only the same user may resume; ClientHello.reliable turns acknowledged delivery on later", () => {
    const { open } = setup();
    const mine = open("r", "mine", { reliable: true, userId: "alice" });
    const hello = JSON.parse(mine.t.sent[0] as string);
    mine.conn.closed(1006, "");
    const thief = open("r", "thief", { reliable: true, userId: "mallory", resume: { sessionId: hello.session_id, lastSeq: 0 } });
    expect(JSON.parse(thief.t.sent[0] as string)).toMatchObject({ resumed: false, client_id: "thief" });
    const plain = open("r", "plain");
    plain.conn.message(JSON.stringify({ type: "CLIENT_HELLO", reliable: true }));
    const second = plain.t.sent.map((f) => (typeof f === "string" ? JSON.parse(f) : {})).filter((m) => m.type === "SERVER_HELLO")[1];
    expect(second.session_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(plain.conn.reliable).toBe(true);
  });

  test("a deliberate close (1000) ends the session at once", () => {
    const { open, rel } = setup();
    const watcher = open("r", "w");
    const hello = JSON.parse(rel.t.sent[0] as string);
    rel.conn.closed(1000, "");
    expect(watcher.ofType(MessageType.PRESENCE_LEAVE).length).toBe(1);
    const again = open("r", "again", { reliable: true, resume: { sessionId: hello.session_id, lastSeq: 0 } });
    expect(JSON.parse(again.t.sent[0] as string).resumed).toBe(false);
  });
});

describe("slow consumers", () => {
  test("over the soft limit: positions coalesce per entity, reliable messages queue, all flushed in order on drain", () => {
    const h = memoryHub({ slowConsumerSoftBytes: 1024, slowConsumerHardBytes: 1_000_000 });
    const sender = h.open("r", "s");
    sender.conn.message(JSON.stringify({ type: "ENTITY_SPAWN", entity_id: "e1" }));
    const slow = h.open("r", "slow");
    slow.t.buffered = 5000; // the socket is backed up
    h.hub.delivery.checkBuffers(slow.conn);
    expect(h.hub.rooms.get("r")!.slow.has(slow.conn)).toBe(true);
    const before = slow.t.sent.length;
    for (let i = 0; i < 10; i++) sender.conn.message(pos("s", i));
    sender.conn.message(chat("c1"));
    for (let i = 0; i < 10; i++) sender.conn.message(pos("e1", 100 + i));
    sender.conn.message(chat("c2"));
    expect(slow.t.sent.length).toBe(before); // nothing went to the socket meanwhile
    slow.t.buffered = 0;
    slow.conn.drain();
    const got = slow.messages().slice(-4);
    expect(got.map((m) => m.chat_message?.message ?? `${m.position_update!.entity_id}:${m.position_update!.position!.x}`)).toEqual(["s:9", "c1", "e1:109", "c2"]);
    expect(h.hub.metrics.delivery.coalesced).toBe(18);
    expect(h.hub.rooms.get("r")!.slow.has(slow.conn)).toBe(false); // back on the native topic
  });

  test("past the hard limit (buffered + queued) the connection is closed with 4101", () => {
    const h = memoryHub({ slowConsumerSoftBytes: 1024, slowConsumerHardBytes: 4096 });
    const sender = h.open("r", "s");
    const slow = h.open("r", "slow");
    slow.t.buffered = 2000;
    h.hub.delivery.checkBuffers(slow.conn);
    for (let i = 0; i < 100 && !slow.t.closedWith; i++) sender.conn.message(chat("x".repeat(100)));
    expect(slow.t.closedWith?.code).toBe(4101);
    expect(h.hub.metrics.delivery.slow_consumer_closes).toBe(1);
  });

  test("a send the runtime reports queued past the soft limit makes the connection slow", () => {
    const h = memoryHub({ slowConsumerSoftBytes: 1024 });
    const sender = h.open("r", "s");
    const b = h.open("r", "b");
    b.t.buffered = 2048;
    expect(b.t.send("probe")).toBe(SendResult.Queued);
    sender.conn.message(JSON.stringify({ type: "CHAT_MESSAGE", message: "whisper", chat_type: "WHISPER", to_client_id: "b" }));
    expect(h.hub.rooms.get("r")!.slow.has(b.conn)).toBe(true);
  });
});

describe("in-order release of reliable entries", () => {
  test("early entries wait for the gap; duplicates drop; a lasting gap is filled from the log", async () => {
    const { InOrder } = await import("../../src/delivery/in-order.ts");
    const { ManualClock } = await import("../../src/lib/clock.ts");
    const { Room } = await import("../../src/core/room.ts");
    const clock = new ManualClock();
    const filled: number[] = [];
    const log = { read: (_r: string, _e: number, after: number, n: number) => Array.from({ length: n }, (_, i) => ({ seq: after + 1 + i, epoch: 7, frame: new Uint8Array() })) };
    const io = new InOrder(log as never, clock, (_room, e) => filled.push(e.seq));
    const room = new Room("r", 0, { entities: 10, entityBytes: 1000, components: 10, roomBytes: 10_000 });
    room.epoch = 7;
    room.seq = 10;
    const out: number[] = [];
    io.accept(room, 7, 12, () => out.push(12));
    io.accept(room, 7, 13, () => out.push(13));
    expect(out).toEqual([]);
    io.accept(room, 7, 11, () => out.push(11));
    expect(out).toEqual([11, 12, 13]);
    io.accept(room, 7, 12, () => out.push(99)); // a duplicate
    io.accept(room, 7, 16, () => out.push(16));
    clock.advance(300); // 14 and 15 never came: the log fills them
    await Bun.sleep(0);
    expect(filled).toEqual([14, 15]);
    expect(out).toEqual([11, 12, 13, 16]);
    io.accept(room, 8, 1, () => out.push(1)); // a new epoch starts afresh
    expect(out.at(-1)).toBe(1);
  });
});

describe("a room log that went back in time (failover to a replica without the last appends)", () => {
  test("the next append notices, the log moves to a new epoch, the message goes out there once", async () => {
    const { MemoryBroker } = await import("../../src/cluster/memory.ts");
    const { ManualClock } = await import("../../src/lib/clock.ts");
    const clock = new ManualClock();
    const broker = new MemoryBroker({ clock, delivery: "sync" });
    const a = memoryHub({}, { clock, cluster: broker.node("a") });
    const b = memoryHub({}, { clock, cluster: broker.node("b") });
    const sender = a.open("r", "s");
    const here = a.open("r", "here", { reliable: true });
    const there = b.open("r", "there", { reliable: true });
    await Bun.sleep(1); // rooms shared through a cluster backend open asynchronously
    for (let i = 0; i < 5; i++) sender.conn.message(chat(`c${i}`));
    const before = here.ofType(MessageType.CHAT_MESSAGE).at(-1)!;
    // The promoted replica lacked the last two appends: same epoch, seq back by two.
    const log = broker.logs.state("r", false)!;
    log.seq -= 2;
    sender.conn.message(chat("after failover"));
    for (const c of [here, there]) {
      const got = c.ofType(MessageType.CHAT_MESSAGE);
      expect(got.map((m) => m.chat_message!.message)).toEqual(["c0", "c1", "c2", "c3", "c4", "after failover"]);
      expect(got.at(-1)!.epoch).not.toBe(before.epoch); // a new epoch: no seq names two messages
      expect(got.at(-1)!.seq).toBe(1);
    }
    expect(a.hub.metrics.delivery.rebases).toBe(1);
  });
});
