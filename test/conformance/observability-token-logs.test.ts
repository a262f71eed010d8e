/**
 * [observability] METRICS_TOKEN on the metrics, stats and dashboard endpoints, and the JSON logs
 * (what is logged at info, what never is, and LOG_LEVEL=warn), against the real server on every
 * runtime. (Metric values: observability-metrics.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, join, TestClient } from "../helpers/client.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { ROOT, RUNTIMES, serverCommand, type Runtime, type RunningServer, startServer } from "../helpers/server.ts";
import { mint, SECRET } from "../helpers/tokens.ts";
import { encodeBinary } from "../../src/protocol/proto.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { dashboardHtml } from "../../src/observability/dashboard.ts";

const METRICS_TOKEN = `mt-${crypto.randomUUID()}`;
let ipSeq = 0;
/** Every connection to the auth server comes from its own forwarded address (TRUST_PROXY=true), so CONNECT_RATE_LIMIT=2 bites only where meant to. */
const ip = () => ({ "X-Forwarded-For": `10.77.${(ipSeq >> 8) & 255}.${ipSeq++ & 255}` });
const upgrade = async (s: RunningServer, path: string, headers: Record<string, string> = {}) => {
  const raw = RawWs.open(s.port, path, { ...ip(), ...headers });
  const status = await raw.ready;
  raw.destroy();
  return status;
};

describe.each(RUNTIMES)("observability: METRICS_TOKEN and logs on %s", (runtime) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer(runtime, {
      JWT_SECRET: SECRET,
      METRICS_TOKEN,
      TRUST_PROXY: "true",
      CONNECT_RATE_LIMIT: "2",
      MAX_ROOM_CONNECTIONS: "2",
    });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("METRICS_TOKEN: metrics, stats and dashboard need the bearer token (the dashboard also ?token=); /health and /ready stay open", async () => {
    const protectedPaths = ["/metrics", "/metrics?format=prometheus", "/ws/stats", "/ws/tok-room/stats", "/dashboard"];
    for (const path of protectedPaths) {
      for (const headers of [{} as Record<string, string>, { Authorization: "Bearer wrong-token" }, { Authorization: `Bearer ${METRICS_TOKEN}x` }, { Authorization: `Basic ${METRICS_TOKEN}` }]) {
        const res = await fetch(`${s.http}${path}`, { headers });
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(await res.json()).toMatchObject({ error: "unauthorized" });
      }
      const ok = await fetch(`${s.http}${path}`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(ok.status, path).toBe(200);
      const body = await ok.text();
      if (path === "/metrics") expect(JSON.parse(body).report).toContain("=== Performance Report ===");
      if (path.includes("prometheus")) expect(body).toContain("graphwiz_ws_connections_active");
      if (path === "/ws/stats") expect(JSON.parse(body)).toHaveProperty("total_connections");
      if (path === "/ws/tok-room/stats") expect(JSON.parse(body)).toMatchObject({ room_id: "tok-room", connection_count: 0 });
      if (path === "/dashboard") expect(body).toBe(dashboardHtml()); // the same page on every runtime and bundle
    }
    // Only the dashboard page takes the token from the query (it passes it on as a header).
    expect((await fetch(`${s.http}/dashboard?token=${METRICS_TOKEN}`)).status).toBe(200);
    expect((await fetch(`${s.http}/dashboard?token=wrong`)).status).toBe(401);
    expect((await fetch(`${s.http}/metrics?token=${METRICS_TOKEN}`)).status).toBe(401);
    expect((await fetch(`${s.http}/ws/stats?token=${METRICS_TOKEN}`)).status).toBe(401);
    // Health and readiness are for load balancers: no token.
    const health = await fetch(`${s.http}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "healthy", runtime, auth: "required" });
    const ready = await fetch(`${s.http}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", cluster: { backend: "memory", healthy: true } });
  });

  test("logs: one JSON object per line; opens, closes and every rejection (400/401/403/429/503) at info with ids and codes; no token or message body in any line", async () => {
    const marker = `BODY-MARKER-${crypto.randomUUID()}`;
    const t1 = await mint({ sub: "log-user-1", client_id: "log-c1", rooms: ["logs-*"] });
    const t2 = await mint({ sub: "log-user-2", client_id: "log-c2", rooms: ["logs-*"] });
    const t3 = await mint({ sub: "log-user-3", client_id: "log-c3", rooms: ["logs-*"] });
    const expired = await mint({ sub: "log-user-9", exp: Math.floor(Date.now() / 1000) - 3600 });
    const forged = (await mint({ sub: "log-user-1" }, "HS256", "another-secret-0123456789abcdefghijkl"));
    const garbage = `not-a-jwt-${crypto.randomUUID()}`;
    const secrets = [t1, t2, t3, expired, forged, garbage, METRICS_TOKEN, SECRET, "wrong-bearer-value"];
    const from = s.lines.length;

    // Two members (the room's cap), one of them authenticating by first message.
    const c1 = new TestClient(`${s.ws}/ws/logs-room?token=${t1}`, undefined, ip());
    await c1.opened;
    await c1.frames(1);
    const c2 = new TestClient(`${s.ws}/ws/logs-room`, undefined, ip());
    await c2.opened;
    c2.send(JSON.stringify({ type: "CLIENT_HELLO", auth_token: t2 }));
    await c2.json("SERVER_HELLO");
    c1.send(JSON.stringify({ type: "CHAT_MESSAGE", text: `${marker} chat` }));
    c1.send(`${marker} raw`);
    c1.send(encodeBinary({ type: MessageType.CHAT_MESSAGE, payload: "chat_message", chat_message: { message: `${marker} binary` } }));
    await c2.until((inbox) => inbox.filter((f) => typeof f === "string" && f.includes(marker)).length >= 2, 5000, "the chats");
    await c2.until((inbox) => inbox.filter((f) => typeof f === "string" && f.includes(`${marker} binary`)).length >= 1, 5000, "the binary chat");

    // Every kind of refusal before the upgrade (logs-room is full now, and capacity is checked before tokens).
    expect(await upgrade(s, `/ws/bad%20room?token=${t3}`)).toBe(400);
    expect(await upgrade(s, `/ws/logs-y?token=${expired}`)).toBe(401);
    expect(await upgrade(s, `/ws/logs-y?token=${forged}`)).toBe(401);
    expect(await upgrade(s, `/ws/logs-y`, { Authorization: `Bearer ${garbage}` })).toBe(401);
    expect(await upgrade(s, `/ws/elsewhere?token=${t3}`)).toBe(403); // rooms claim: logs-* only
    expect(await upgrade(s, `/ws/logs-room?token=${t3}`)).toBe(503); // MAX_ROOM_CONNECTIONS=2
    const same = { "X-Forwarded-For": "10.99.0.1" };
    expect(await upgrade(s, `/ws/logs-x?token=${garbage}`, same)).toBe(401);
    expect(await upgrade(s, `/ws/logs-x?token=${garbage}`, same)).toBe(401);
    expect(await upgrade(s, `/ws/logs-x?token=${t3}`, same)).toBe(429); // CONNECT_RATE_LIMIT=2
    expect((await fetch(`${s.http}/metrics`, { headers: { Authorization: "Bearer wrong-bearer-value" } })).status).toBe(401);
    expect((await fetch(`${s.http}/dashboard?token=wrong-bearer-value`)).status).toBe(401);

    await c2.close(1000, "done");
    await c1.close(4002, "also done");
    await eventually(() => s.lines.slice(from).filter((l) => l.includes('"connection_close"')).length >= 2, 5000, "two close lines");

    const lines = s.lines.slice(from);
    const logs = lines.map((l) => JSON.parse(l));
    for (const o of logs) {
      expect(typeof o).toBe("object");
      expect(new Date(o.time).toISOString()).toBe(o.time);
      expect(["debug", "info", "warn", "error"]).toContain(o.level);
      expect(typeof o.event).toBe("string");
    }
    const ev = (name: string) => logs.filter((o) => o.event === name);
    const opens = ev("connection_open");
    expect(opens.map((o) => [o.level, o.room, o.user, o.client]).sort()).toEqual([["info", "logs-room", "log-user-1", "log-c1"], ["info", "logs-room", "log-user-2", "log-c2"]]);
    for (const o of opens) expect(o.connection).toMatch(/^[0-9a-f-]{36}$/);
    const closes = ev("connection_close");
    expect(closes.map((o) => [o.level, o.room, o.user, o.code]).sort()).toEqual([["info", "logs-room", "log-user-1", 4002], ["info", "logs-room", "log-user-2", 1000]]);
    expect(closes.map((o) => o.connection).sort()).toEqual(opens.map((o) => o.connection).sort());
    expect(ev("connection_pending_auth")).toHaveLength(1);
    const rejected = ev("upgrade_rejected");
    expect(rejected.every((o) => o.level === "info")).toBe(true);
    expect(rejected.map((o) => o.status).sort()).toEqual([400, 401, 401, 401, 401, 401, 403, 429, 503]);
    expect(rejected.find((o) => o.status === 403)).toMatchObject({ room: "elsewhere" });
    expect(rejected.find((o) => o.status === 503)).toMatchObject({ room: "logs-room" });
    expect(ev("metrics_rejected").map((o) => [o.level, o.status, o.path])).toEqual([["info", 401, "/metrics"], ["info", 401, "/dashboard"]]);

    // Nothing secret and no message body, anywhere in the whole log (start-up included).
    const everything = s.lines.join("\n");
    for (const secret of [...secrets, marker]) expect(everything.includes(secret), `a log line contains ${secret.slice(0, 24)}…`).toBe(false);
    for (const t of [t1, t2, t3, expired, forged]) {
      const [, payload, signature] = t.split(".");
      expect(everything.includes(payload!)).toBe(false);
      expect(everything.includes(signature!)).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** A free TCP port on 127.0.0.1 (the server is started on it: at LOG_LEVEL=warn it never says where it listens). */
function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

describe.each(RUNTIMES)("observability: LOG_LEVEL=warn on %s", (runtime: Runtime) => {
  test("suppresses every info line; warnings still come out as JSON", async () => {
    const port = freePort();
    const proc = Bun.spawn(await serverCommand(runtime), {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", MAX_ROOM_CONNECTIONS: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = new Response(proc.stdout).text();
    try {
      const http = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${http}/health`)).ok, 20_000, "the server to answer");
      // Traffic that logs at info by default: an open, a rejection, a close, a drain.
      const a = await join(`ws://127.0.0.1:${port}`, "quiet");
      a.send(JSON.stringify({ type: "CHAT_MESSAGE", text: "hi" }));
      const raw = RawWs.open(port, "/ws/quiet");
      expect(await raw.ready).toBe(503);
      raw.destroy();
      await a.close();
      await eventually(async () => (await (await fetch(`${http}/ws/stats`)).json()).total_connections === 0, 5000, "the close");
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0);
    const lines = (await out).split("\n").filter(Boolean);
    const logs = lines.map((l) => JSON.parse(l));
    // Development mode warns at start-up: proof that the log works at all at this level.
    expect(logs.map((o) => o.event)).toContain("auth_development_mode");
    for (const o of logs) expect(["warn", "error"], `${o.event} at ${o.level}`).toContain(o.level);
  });
});
