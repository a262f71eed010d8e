/**
 * [ops] What an operator notices over HTTP, on every runtime: `GET /` says what this is, wrong
 * methods get 405 with `Allow`, `/health` and `/ready` report the cluster backend's state, and
 * the `listening` line carries a URL and the node id.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SERVER_VERSION } from "../../src/version.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";

describe.each(RUNTIMES)("operator HTTP on %s", (runtime) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer(runtime, { NODE_ID: `ops-${runtime}` });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("the listening line has the URL and node_id (not a `node` field); the URL answers", async () => {
    const line = JSON.parse(s.lines.find((l) => l.includes('"event":"listening"'))!);
    expect(line).toMatchObject({ url: `http://127.0.0.1:${s.port}`, host: "127.0.0.1", port: s.port, runtime, version: SERVER_VERSION, node_id: `ops-${runtime}`, cluster: "memory" });
    expect(line).not.toHaveProperty("node");
    expect((await fetch(`${line.url}/health`)).status).toBe(200);
  });

  test("GET / answers the name, version and links, each of which answers", async () => {
    const res = await fetch(`${s.http}/`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ name: "graphwiz-ws", version: SERVER_VERSION, runtime });
    expect(Object.keys(body.links).sort()).toEqual(["dashboard", "docs", "health", "metrics", "ready", "stats", "websocket"]);
    for (const key of ["dashboard", "health", "ready", "metrics", "stats"]) expect((await fetch(`${s.http}${body.links[key]}`)).status, key).toBe(200);
    // A WebSocket upgrade to / (or to /ws/.., which URLs normalise to /) is a wrong path: 404, not the page.
    const upgrade = await fetch(`${s.http}/`, { headers: { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" } });
    expect(upgrade.status).toBe(404);
  });

  test("wrong methods on known paths: 405 with Allow: GET, HEAD; HEAD works; unknown paths stay 404", async () => {
    for (const path of ["/", "/health", "/ready", "/metrics", "/dashboard", "/ws/stats", "/ws/r1/stats", "/ws/r1"]) {
      for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
        const res = await fetch(`${s.http}${path}`, { method });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get("allow")).toBe("GET, HEAD");
        expect(await res.json()).toMatchObject({ error: "method_not_allowed" });
      }
    }
    const head = await fetch(`${s.http}/health`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect((await fetch(`${s.http}/nope`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${s.http}/ws/r1`)).status).toBe(426); // GET without upgrade is still 426
  });

  test("/health and /ready report the cluster backend and the node id", async () => {
    const health = await (await fetch(`${s.http}/health`)).json();
    expect(health).toMatchObject({ status: "healthy", node_id: `ops-${runtime}`, cluster: { backend: "memory", healthy: true } });
    const ready = await fetch(`${s.http}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", cluster: { backend: "memory", healthy: true } });
  });
});
