/**
 * The [core] conformance suite: the same assertions against the real server process on Bun,
 * Deno and Node, driven by real WebSocket clients.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, join, TestClient, type Received } from "../helpers/client.ts";
import { decodeBinary, encodeBinary } from "../../src/protocol/proto.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const get = async (s: RunningServer, path: string) => {
  const r = await fetch(s.http + path);
  return { status: r.status, body: await r.json() as any };
};

describe.each(RUNTIMES)("core on %s", (runtime) => {
  let s: RunningServer;
  beforeAll(async () => {
    // The ordering test sends 200 frames in a burst: above the default per-connection rate limit.
    s = await startServer(runtime, { RATE_LIMIT_MESSAGES: "100000" });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("the first frame is a JSON SERVER_HELLO text frame with the given ids", async () => {
    const c = new TestClient(`${s.ws}/ws/hello-room?user_id=user123&client_id=client456`);
    const [first] = await c.frames(1);
    expect(typeof first).toBe("string");
    const hello = JSON.parse(first as string);
    expect(hello).toMatchObject({ type: "SERVER_HELLO", room_id: "hello-room", client_id: "client456" });
    expect(Math.abs(hello.timestamp - Date.now() / 1000)).toBeLessThan(10);
    expect(Number.isInteger(hello.timestamp)).toBe(true);
    expect(hello.connection_id).toMatch(UUID);
    expect(typeof hello.server_version).toBe("string");
    const anon = await join(s.ws, "hello-room");
    const h2 = JSON.parse(anon.inbox[0] as string);
    expect(h2.client_id).toMatch(UUID);
    expect(h2.connection_id).not.toBe(hello.connection_id);
    const stats = (await get(s, "/ws/hello-room/stats")).body;
    const mine = stats.connections.find((x: any) => x.id === hello.connection_id);
    expect(mine).toMatchObject({ room_id: "hello-room", user_id: "user123", client_id: "client456" });
    expect(stats.connections.find((x: any) => x.id === h2.connection_id).user_id).toBeNull();
    expect(new Date(mine.connected_at).toISOString()).toBe(mine.connected_at);
    await c.close();
    await anon.close();
  });

  test("broadcast reaches every other member in order, never the sender; text byte-exact, binary as valid Messages", async () => {
    const q = "format=protobuf";
    const [a, b, c] = await Promise.all([join(s.ws, "bcast", q), join(s.ws, "bcast", q), join(s.ws, "bcast", q)]);
    const other = await join(s.ws, "bcast-other", q);
    const sent: (string | Uint8Array)[] = [];
    for (let i = 0; i < 200; i++) {
      sent.push(i % 3 === 0
        ? encodeBinary({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { entity_id: "", position: { x: i, y: 0, z: 0 }, sequence_number: i } })
        : `{"type":"TEST_MESSAGE","n":${i},"u":"héllo ✓"}`);
    }
    for (const f of sent) a.send(f);
    for (const r of [b, c]) {
      const mine = (box: Received[]) => box.filter((f) => typeof f === "string" ? f.includes("TEST_MESSAGE") : decodeBinary(f).payload === "position_update");
      await r.until((box) => mine(box).length >= sent.length, 5000, "200 relayed frames");
      const got = mine(r.inbox);
      got.forEach((f, i) => {
        if (typeof sent[i] === "string") expect(f).toBe(sent[i]);
        else {
          expect(f).toBeInstanceOf(Uint8Array);
          const m = decodeBinary(f as Uint8Array);
          expect(m.position_update!.sequence_number).toBe(i);
          expect(m.position_update!.entity_id).toBe(JSON.parse(a.inbox[0] as string).client_id);
        }
      });
    }
    // A probe from b proves a has seen everything it will: none of its own frames come back.
    b.send("probe");
    await a.until((box) => box.includes("probe"));
    expect(a.inbox.some((f) => typeof f === "string" && f.includes("TEST_MESSAGE"))).toBe(false);
    expect(a.inbox.some((f) => typeof f !== "string" && decodeBinary(f).payload === "position_update")).toBe(false);
    await Bun.sleep(100);
    expect(other.inbox.some((f) => typeof f === "string" && (f.includes("TEST_MESSAGE") || f === "probe"))).toBe(false);
    await Promise.all([a, b, c, other].map((x) => x.close()));
  });

  test("stats endpoints: room stats, unknown room, global stats", async () => {
    const a = await join(s.ws, "stats-room", "user_id=u1&client_id=c1");
    const b = await join(s.ws, "stats-room", "client_id=c2");
    const room = await get(s, "/ws/stats-room/stats");
    expect(room.status).toBe(200);
    expect(room.body.room_id).toBe("stats-room");
    expect(room.body.connection_count).toBe(2);
    expect(room.body.connections.map((x: any) => x.client_id).sort()).toEqual(["c1", "c2"]);
    for (const x of room.body.connections) expect(Object.keys(x).sort()).toEqual(expect.arrayContaining(["id", "room_id", "user_id", "client_id", "connected_at"]));
    const none = await get(s, "/ws/nobody-here/stats");
    expect(none).toEqual({ status: 200, body: { room_id: "nobody-here", connection_count: 0, connections: [] } });
    const global = await get(s, "/ws/stats");
    expect(global.body.total_connections).toBeGreaterThanOrEqual(2);
    expect(global.body.rooms).toBeGreaterThanOrEqual(1);
    expect(new Date(global.body.timestamp).toISOString()).toBe(global.body.timestamp);
    await a.close();
    await b.close();
    await eventually(async () => (await get(s, "/ws/stats-room/stats")).body.connection_count === 0, 2000, "room to empty");
  });

  test("metrics count connections and messages; health answers", async () => {
    const num = (r: string, re: RegExp) => Number(re.exec(r)![1]);
    const before0 = (await get(s, "/metrics")).body.report as string;
    const a = await join(s.ws, "metrics-room");
    const b = await join(s.ws, "metrics-room");
    const c = await join(s.ws, "metrics-room");
    await b.until((box) => box.length >= 2); // c's PRESENCE_JOIN
    const before = (await get(s, "/metrics")).body.report as string;
    expect(num(before, /(\d+) total/) - num(before0, /(\d+) total/)).toBe(3);
    a.send("m1");
    a.send("m2");
    await b.until((box) => box.includes("m2"));
    await c.until((box) => box.includes("m2"));
    const after = await get(s, "/metrics");
    const report = after.body.report as string;
    expect(report.startsWith("=== Performance Report ===\nUptime: ")).toBe(true);
    expect(report).toMatch(/Connections: \d+ active \/ \d+ total \(\d+ errors\)/);
    expect(num(report, /Messages: (\d+) received/) - num(before, /Messages: (\d+) received/)).toBe(2);
    expect(num(report, /received \/ (\d+) sent/) - num(before, /received \/ (\d+) sent/)).toBe(4);
    expect(new Date(after.body.timestamp).toISOString()).toBe(after.body.timestamp);
    const health = await get(s, "/health");
    expect(health.body.status).toBe("healthy");
    await Promise.all([a, b, c].map((x) => x.close()));
  });

  test("plain GET on a room is 426 JSON; unknown paths 404 JSON; bad ids 400 naming the field", async () => {
    const r = await fetch(`${s.http}/ws/some-room`);
    expect(r.status).toBe(426);
    expect((await r.json()).error).toBe("upgrade_required");
    const nf = await fetch(`${s.http}/nope`);
    expect(nf.status).toBe(404);
    expect((await nf.json()).error).toBe("not_found");
    const bad = new TestClient(`${s.ws}/ws/bad%20room`);
    await expect(bad.opened).rejects.toThrow();
    const res = await fetch(`${s.http}/ws/bad%20room`, {
      headers: { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toContain("room_id");
  });

  test("a client whose process is killed disappears from stats within 2 s and the room keeps working", async () => {
    const stay = await join(s.ws, "drop-room");
    const child = Bun.spawn([process.execPath, "-e",
      `const ws = new WebSocket(${JSON.stringify(`${s.ws}/ws/drop-room?client_id=doomed`)}); ws.onmessage = () => console.log("in"); setInterval(() => {}, 1000);`],
      { stdout: "pipe" });
    const reader = child.stdout.getReader();
    await reader.read(); // the hello arrived: it is in the room
    expect((await get(s, "/ws/drop-room/stats")).body.connection_count).toBe(2);
    child.kill("SIGKILL");
    const t0 = Date.now();
    await eventually(async () => (await get(s, "/ws/drop-room/stats")).body.connection_count === 1, 2000, "the dropped client to leave stats");
    expect(Date.now() - t0).toBeLessThan(2000);
    const peer = await join(s.ws, "drop-room");
    peer.send("still-here");
    await stay.until((b) => b.includes("still-here"));
    await stay.close();
    await peer.close();
  });
});

describe.each(RUNTIMES)("lifecycle on %s", (runtime) => {
  test("SIGTERM closes every client with 1001 and exits 0 within 5 s", async () => {
    const s = await startServer(runtime);
    const clients = await Promise.all([join(s.ws, "bye"), join(s.ws, "bye"), join(s.ws, "bye-2")]);
    const t0 = Date.now();
    s.proc.kill("SIGTERM");
    const closes = await Promise.all(clients.map((c) => c.closedP));
    const code = await s.exited;
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    for (const ev of closes) expect(ev.code).toBe(1001);
  });

  test("an invalid PORT stops start-up with exit 2 and one line naming PORT", async () => {
    await expect(startServer(runtime, { PORT: "abc" }, { timeoutMs: 15_000 })).rejects.toThrow(/exited 2: .*PORT/);
  });
});
