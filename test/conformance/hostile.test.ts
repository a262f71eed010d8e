/** [auth] hostile input and resource limits, against the real server on every runtime. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, join } from "../helpers/client.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";

const upgrade = async (s: RunningServer, path: string, headers: Record<string, string> = {}) => {
  const raw = RawWs.open(s.port, path, headers);
  const status = await raw.ready;
  return { raw, status, body: raw.response.slice(raw.response.indexOf("\r\n\r\n") + 4) };
};
const stats = async (s: RunningServer) => (await fetch(`${s.http}/ws/stats`)).json();

describe.each(RUNTIMES)("hostile input on %s", (runtime) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer(runtime, {
      MAX_MESSAGE_BYTES: "4096",
      MAX_CONNECTIONS: "6",
      MAX_ROOM_CONNECTIONS: "2",
      ALLOWED_ORIGINS: "https://good.example",
      PING_INTERVAL_MS: "1000",
      PONG_TIMEOUT_MS: "1000",
    });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("a frame over MAX_MESSAGE_BYTES: ERROR MESSAGE_TOO_BIG, close 1009, nothing relayed", async () => {
    const a = await join(s.ws, "big"), b = await join(s.ws, "big");
    a.send("x".repeat(5000));
    const ev = await a.closedP;
    expect(ev.code).toBe(1009);
    expect(a.inbox.some((f) => typeof f === "string" && f.includes("MESSAGE_TOO_BIG"))).toBe(true);
    const c = await join(s.ws, "big-2"), d = await join(s.ws, "big-2");
    c.send(new Uint8Array(100_000)); // beyond even the runtime's own cap
    expect((await c.closedP).code).toBe(1009);
    await Bun.sleep(50);
    expect(b.inbox.filter((f) => typeof f === "string" && f.startsWith("xxx")).length).toBe(0);
    expect(d.inbox.every((f) => typeof f === "string")).toBe(true);
    await Promise.all([b.close(), d.close()]);
  });

  test("a fragmented frame counts after reassembly", async () => {
    const raw = RawWs.open(s.port, "/ws/frag");
    expect(await raw.ready).toBe(101);
    raw.send(1, "y".repeat(3000), false);
    raw.send(0, "y".repeat(3000), true); // 6,000 bytes in two fragments of 3,000
    await raw.ended;
    expect(raw.closeCode()).toBe(1009);
  });

  test("origins: a listed origin and no Origin header pass; another origin gets 403 before the upgrade", async () => {
    const bad = await upgrade(s, "/ws/origin", { Origin: "https://evil.example" });
    expect(bad.status).toBe(403);
    expect(JSON.parse(bad.body).error).toBe("forbidden");
    const good = await upgrade(s, "/ws/origin", { Origin: "https://good.example" });
    expect(good.status).toBe(101);
    good.raw.destroy();
  });

  test("capacity: MAX_ROOM_CONNECTIONS and MAX_CONNECTIONS answer 503 before the upgrade", async () => {
    await eventually(async () => (await stats(s)).total_connections === 0, 3000, "an empty server");
    const r1 = await join(s.ws, "cap"), r2 = await join(s.ws, "cap");
    const full = await upgrade(s, "/ws/cap");
    expect(full.status).toBe(503);
    expect(JSON.parse(full.body).error).toBe("room_full");
    const others = await Promise.all([1, 2, 3, 4].map((i) => join(s.ws, `cap-${i}`)));
    const over = await upgrade(s, "/ws/cap-9");
    expect(over.status).toBe(503);
    expect(JSON.parse(over.body).error).toBe("over_capacity");
    for (const c of [r1, r2, ...others]) await c.close();
    await eventually(async () => (await stats(s)).total_connections === 0, 3000, "everyone to leave");
  });

  test("path tricks and bad ids are refused cleanly and the server stays up", async () => {
    const cases: [string, number[]][] = [
      ["/ws/..", [400, 404]],
      ["/ws/...", [400]],
      ["/ws/a%2Fb", [400, 404]],
      ["/ws/a%00b", [400]],
      ["/ws/%2e%2e", [400, 404]],
      [`/ws/${"r".repeat(129)}`, [400]],
      ["/ws/ok?client_id=has%20space", [400]],
      [`/ws/ok?user_id=${"u".repeat(129)}`, [400]],
      ["/ws/ok?format=xml", [400]],
      [`/ws/ok?junk=${"q".repeat(100_000)}`, [400, 414, 431]],
    ];
    for (const [path, allowed] of cases) {
      const r = await upgrade(s, path);
      expect(allowed, `${path.slice(0, 40)} answered ${r.status}`).toContain(r.status);
      r.raw.destroy();
    }
    expect((await fetch(`${s.http}/health`)).status).toBe(200);
    await eventually(async () => (await stats(s)).total_connections === 0, 3000, "no leaked connections");
  });

  test("keepalive: a client that never answers pings is closed; one that does stays", async () => {
    const silent = RawWs.open(s.port, "/ws/keepalive");
    expect(await silent.ready).toBe(101);
    const alive = await join(s.ws, "keepalive");
    await silent.ended;
    if (runtime !== "deno") {
      expect(silent.closeCode()).toBe(4102);
      expect(silent.texts().some((t) => t.includes('"close_code":4102'))).toBe(true);
    }
    expect(alive.closeEvent).toBeUndefined();
    await alive.close();
  }, 20_000);
});
