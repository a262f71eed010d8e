import { describe, expect, test } from "bun:test";
import { defaultConfig } from "../../src/config.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { Hub } from "../../src/core/hub.ts";
import { LoopFanout } from "../../src/core/loop-fanout.ts";
import { MemoryTransport } from "../helpers/memory.ts";

const setup = () => {
  const clock = new ManualClock();
  const fanout = new LoopFanout();
  const hub = new Hub({ config: defaultConfig(), fanout, clock });
  const open = (roomId: string, clientId: string = crypto.randomUUID(), userId: string | null = null) => {
    const t = new MemoryTransport();
    const conn = hub.open({ roomId, clientId, userId, format: "json" }, t);
    return { t, conn };
  };
  return { hub, clock, fanout, open };
};

describe("Hub", () => {
  test("sends SERVER_HELLO first with ids and unix-second timestamp", () => {
    const { open, clock } = setup();
    const { t, conn } = open("r1", "c1", "u1");
    expect(t.sent.length).toBe(1);
    const hello = JSON.parse(t.sent[0] as string);
    expect(hello).toMatchObject({ type: "SERVER_HELLO", room_id: "r1", client_id: "c1", connection_id: conn.id });
    expect(hello.timestamp).toBe(Math.floor(clock.now() / 1000));
  });

  test("relays to the others of the room only, same frame object, never the sender", () => {
    const { open } = setup();
    const a = open("r1"), b = open("r1"), c = open("r2");
    const bin = new Uint8Array([1, 2, 3]);
    a.conn.message(bin);
    a.conn.message("text");
    expect(b.t.sent.slice(1)).toEqual([bin, "text"]);
    expect(b.t.sent[1]).toBe(bin);
    expect(a.t.sent.length).toBe(1);
    expect(c.t.sent.length).toBe(1);
  });

  test("a closed connection leaves its room, is never sent to again, and an empty room is forgotten", () => {
    const { hub, open, fanout } = setup();
    const a = open("r1"), b = open("r1");
    b.conn.closed(1006, "");
    a.conn.message("after");
    expect(b.t.sent.length).toBe(1);
    expect(hub.roomStats("r1").connection_count).toBe(1);
    expect(hub.metrics.connectionErrors).toBe(1);
    a.conn.closed(1000, "");
    expect(hub.rooms.size).toBe(0);
    expect(fanout.topicCount).toBe(0);
    b.conn.closed(1000, ""); // a second close is ignored
    expect(hub.metrics.connectionsActive).toBe(0);
  });

  test("stats and metrics count exactly", () => {
    const { hub, open } = setup();
    const a = open("r1", "c1", "u1");
    open("r1", "c2");
    open("r1", "c3");
    a.conn.message("hello"); // 5 bytes to 2 peers
    expect(hub.metrics.messagesReceived).toBe(1);
    expect(hub.metrics.messagesSent).toBe(2);
    expect(hub.metrics.bytesSent).toBe(10);
    const stats = hub.roomStats("r1");
    expect(stats.connection_count).toBe(3);
    expect(stats.connections[0]).toMatchObject({ room_id: "r1", user_id: "u1", client_id: "c1" });
    expect(hub.roomStats("none")).toEqual({ room_id: "none", connection_count: 0, connections: [] });
    expect(hub.globalStats()).toMatchObject({ total_connections: 3, rooms: 1 });
  });
});
