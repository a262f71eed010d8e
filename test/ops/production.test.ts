/**
 * [security] Issue 12, findings 7 and 8, on every runtime: production is closed by default.
 * With NODE_ENV production (any case, trimmed) and a JWT key but no METRICS_TOKEN, stats,
 * metrics and the dashboard need a credential — a JWT whose `scope` has `graphwiz:stats` —
 * and room stats honour that token's `rooms` claim; `NODE_ENV=Production` without a key never
 * starts an open server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runToEnd } from "../helpers/builds.ts";
import { TestClient } from "../helpers/client.ts";
import { RUNTIMES, serverCommand, startServer, type RunningServer } from "../helpers/server.ts";
import { mint, SECRET } from "../helpers/tokens.ts";

const GLOBAL = ["/metrics", "/metrics?format=prometheus", "/ws/stats", "/dashboard"];
const get = (s: RunningServer, path: string, token?: string) => fetch(`${s.http}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});

describe.each(RUNTIMES)("production is closed by default on %s", (runtime) => {
  let s: RunningServer;
  let member: TestClient;
  beforeAll(async () => {
    s = await startServer(runtime, { NODE_ENV: "Production ", JWT_SECRET: SECRET });
    member = new TestClient(`${s.ws}/ws/lobby-1?token=${await mint({ sub: "alice", client_id: "alice-c" })}`);
    await member.frames(1);
  });
  afterAll(async () => {
    await member?.close();
    await s?.stop();
  });

  test("without a credential: 401 for metrics, stats (no user ids leak) and the dashboard; health and ready stay open", async () => {
    for (const path of [...GLOBAL, "/ws/lobby-1/stats"]) {
      const res = await get(s, path);
      expect(res.status, path).toBe(401);
      const text = await res.text();
      expect(text).not.toContain("alice");
      expect(text).not.toContain("lobby-1");
    }
    expect((await get(s, "/health")).status).toBe(200);
    expect((await get(s, "/ready")).status).toBe(200);
  });

  test("an ordinary user token (no stats scope) is refused: 403; a forged one: 401", async () => {
    const user = await mint({ sub: "alice" });
    for (const path of [...GLOBAL, "/ws/lobby-1/stats"]) expect((await get(s, path, user)).status, path).toBe(403);
    const forged = await mint({ sub: "ops", scope: "graphwiz:stats" }, "HS256", "another-secret-0123456789abcdefghijkl");
    for (const path of [...GLOBAL, "/ws/lobby-1/stats"]) expect((await get(s, path, forged)).status, path).toBe(401);
    const expired = await mint({ sub: "ops", scope: "graphwiz:stats", exp: Math.floor(Date.now() / 1000) - 3600 });
    expect((await get(s, "/metrics", expired)).status).toBe(401);
  });

  test("a token whose scope includes graphwiz:stats reads everything; the dashboard takes it as ?token=", async () => {
    const ops = await mint({ sub: "prometheus", scope: "openid graphwiz:stats" });
    for (const path of GLOBAL) expect((await get(s, path, ops)).status, path).toBe(200);
    const room = await (await get(s, "/ws/lobby-1/stats", ops)).json();
    expect(room.connections.map((c: { user_id: string }) => c.user_id)).toEqual(["alice"]);
    expect((await fetch(`${s.http}/dashboard?token=${ops}`)).status).toBe(200);
  });

  test("room stats honour the token's rooms claim; a room-limited token reads no view across rooms", async () => {
    const limited = await mint({ sub: "host", scope: "graphwiz:stats", rooms: ["lobby-*"] });
    expect((await get(s, "/ws/lobby-1/stats", limited)).status).toBe(200);
    const other = await get(s, "/ws/backstage/stats", limited);
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ error: "forbidden", message: "The token does not allow room backstage" });
    for (const path of GLOBAL) expect((await get(s, path, limited)).status, path).toBe(403);
  });
});

describe.each(RUNTIMES)("METRICS_TOKEN and stats tokens together on %s", (runtime) => {
  test("outside production, with METRICS_TOKEN set, either the token or a stats JWT opens the endpoints", async () => {
    const s = await startServer(runtime, { METRICS_TOKEN: "metrics-secret-token", JWT_SECRET: SECRET });
    try {
      expect((await get(s, "/metrics")).status).toBe(401);
      expect((await get(s, "/metrics", "metrics-secret-token")).status).toBe(200);
      expect((await get(s, "/metrics", await mint({ sub: "p", scope: "graphwiz:stats" }))).status).toBe(200);
      expect((await get(s, "/ws/x/stats", await mint({ sub: "p", scope: "graphwiz:stats", rooms: ["y"] }))).status).toBe(403);
    } finally {
      await s.stop();
    }
  });

  test("NODE_ENV=Production (any case) without a key does not start: exit 2, one line", async () => {
    for (const value of ["Production", "production ", "PRODUCTION"]) {
      const o = await runToEnd(await serverCommand(runtime), { NODE_ENV: value });
      expect(o.code).toBe(2);
      expect(o.errLines).toEqual(["graphwiz-ws: Invalid NODE_ENV: production needs JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL (refusing to run without authentication)"]);
    }
  });
});
