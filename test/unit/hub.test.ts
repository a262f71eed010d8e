import { describe, expect, test } from "bun:test";
import { globalStats, roomStats } from "../../src/core/stats.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { memoryHub } from "../helpers/hub.ts";

describe("Server", () => {
  test("sends SERVER_HELLO first with ids and unix-second timestamp", () => {
    const { open, clock } = memoryHub();
    const { t, conn } = open("r1", "c1", { userId: "u1" });
    const hello = JSON.parse(t.sent[0] as string);
    expect(hello).toMatchObject({ type: "SERVER_HELLO", room_id: "r1", client_id: "c1", connection_id: conn.id, user_id: "u1" });
    expect(hello.timestamp).toBe(Math.floor(clock.now() / 1000));
  });

  test("protobuf clients get the JSON hello first, then a binary Message{server_hello}", () => {
    const { open } = memoryHub();
    const { t } = open("r1", "c1", { format: "protobuf" });
    expect(typeof t.sent[0]).toBe("string");
    expect(t.sent[1]).toBeInstanceOf(Uint8Array);
  });

  test("relays unknown text to the others of the room only, the same frame object, never the sender", () => {
    const { open } = memoryHub();
    const a = open("r1"), b = open("r1"), p = open("r1", "p", { format: "protobuf" }), c = open("r2");
    const text = '{"type":"TEST_MESSAGE","data":"x"}';
    a.conn.message(text);
    expect(b.raws()).toEqual([text]);
    expect(p.raws()).toEqual([text]);
    expect(a.raws()).toEqual([]);
    expect(c.raws()).toEqual([]);
  });

  test("a closed connection leaves its room, is never sent to again, and an empty room is forgotten", async () => {
    const { hub, open, fanout } = memoryHub();
    const a = open("r1"), b = open("r1");
    const before = b.t.sent.length;
    b.conn.closed(1006, "");
    a.conn.message("after");
    expect(b.t.sent.length).toBe(before);
    expect((await roomStats(hub.stats, "r1")).connection_count).toBe(1);
    expect(hub.metrics.connectionErrors).toBe(1);
    expect(a.ofType(MessageType.PRESENCE_LEAVE).length).toBe(1);
    a.conn.closed(1000, "");
    expect(hub.rooms.size).toBe(0);
    expect(fanout.topicCount).toBe(0);
    b.conn.closed(1000, ""); // a second close is ignored
    expect(hub.metrics.connectionsActive).toBe(0);
  });

  test("a frame over MAX_MESSAGE_BYTES closes with 1009 and is not relayed", () => {
    const { open } = memoryHub({ maxMessageBytes: 100 });
    const a = open("r1"), b = open("r1");
    a.conn.message("x".repeat(101));
    expect(a.t.closedWith?.code).toBe(1009);
    expect(b.raws()).toEqual([]);
  });

  test("stats and metrics count exactly", async () => {
    const { hub, open } = memoryHub();
    const a = open("r1", "c1", { userId: "u1" });
    open("r1", "c2");
    open("r1", "c3");
    const sentBefore = hub.metrics.messagesSent; // 3 presence joins so far (0 + 1 + 2)
    expect(sentBefore).toBe(3);
    a.conn.message("hello"); // 5 bytes to 2 peers
    expect(hub.metrics.messagesReceived).toBe(1);
    expect(hub.metrics.messagesSent - sentBefore).toBe(2);
    const stats = await roomStats(hub.stats, "r1");
    expect(stats.connection_count).toBe(3);
    expect(stats.connections[0]).toMatchObject({ room_id: "r1", user_id: "u1", client_id: "c1" });
    expect(await roomStats(hub.stats, "none")).toEqual({ room_id: "none", connection_count: 0, connections: [] });
    expect((await globalStats(hub.stats))).toMatchObject({ total_connections: 3, rooms: 1 });
  });
});
