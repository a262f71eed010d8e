/**
 * [observability] metrics, Prometheus/OpenMetrics, METRICS_TOKEN and logs, against the real
 * server on every runtime. Metric values are checked exactly: each expected number is computed
 * by hand from the scripted traffic AND cross-checked against what the clients really received.
 * (Drain and readiness: observability-drain.test.ts; the dashboard page: test/browser/.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, join, TestClient, type Received } from "../helpers/client.ts";
import { pyParse, promtoolCheck, promtoolOpenMetrics, type ParsedFamily } from "../helpers/prom-parse.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { ROOT, RUNTIMES, serverCommand, type Runtime, type RunningServer, startServer } from "../helpers/server.ts";
import { mint, SECRET } from "../helpers/tokens.ts";
import { decodeBinary, encodeBinary } from "../../src/protocol/proto.ts";
import { MessageType, TYPE_NAME } from "../../src/protocol/types.ts";
import { dashboardHtml } from "../../src/observability/dashboard.ts";

const metrics = async (s: RunningServer) => (await fetch(`${s.http}/metrics`)).json() as Promise<any>;
const byteLen = (f: Received) => (typeof f === "string" ? Buffer.byteLength(f) : f.byteLength);

/** The kind a frame is counted under: its MessageType name, or RAW for relayed untyped text. */
function kindOf(f: Received): string {
  if (typeof f !== "string") return TYPE_NAME[decodeBinary(f).type ?? 0]!;
  try {
    const o = JSON.parse(f);
    if (o && typeof o.type === "string" && Object.hasOwn(MessageType, o.type)) return o.type;
  } catch {}
  return "RAW";
}
const formatOf = (f: Received) => (typeof f === "string" ? "json" : "protobuf");
/** Frames after the SERVER_HELLO(s): everything the server counts as sent. */
const counted = (c: TestClient) => c.inbox.filter((f) => kindOf(f) !== "SERVER_HELLO");

type Tally = Record<string, { n: number; bytes: number }>;
/** `KIND/format` → count and bytes of the given frames. */
function tally(frames: Received[]): Tally {
  const t: Tally = {};
  for (const f of frames) {
    const k = `${kindOf(f)}/${formatOf(f)}`;
    (t[k] ??= { n: 0, bytes: 0 }).n++;
    t[k].bytes += byteLen(f);
  }
  return t;
}
const counts = (t: Tally) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.n]));
const bytes = (t: Tally) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.bytes]));
const total = (t: Tally, field: "n" | "bytes") => Object.values(t).reduce((a, v) => a + v[field], 0);
/** `/metrics` JSON `messages_by_kind` flattened to `KIND/format` → field. */
function fromJson(byKind: Record<string, Record<string, Record<string, number>>>, field: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [kind, formats] of Object.entries(byKind)) for (const [format, v] of Object.entries(formats)) if (v[field]! > 0) out[`${kind}/${format}`] = v[field]!;
  return out;
}
/** Every sample of `name` as `labels…` → value (label values joined with "/", in label order). */
function series(fams: ParsedFamily[], name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of fams) for (const s of f.samples) if (s.name === name) out[Object.values(s.labels).join("/")] = Number(s.value);
  return out;
}
const one = (fams: ParsedFamily[], name: string) => series(fams, name)[""];
/** Waits until `c` has received `n` counted (non-hello) frames. */
const got = (c: TestClient, n: number, what: string) => c.until(() => counted(c).length >= n, 5000, `${n} frames (${what})`);

describe.each(RUNTIMES)("observability: metrics on %s", (runtime) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer(runtime, {
      RATE_LIMIT_MESSAGES: "5",
      RATE_LIMIT_WINDOW_MS: "60000", // one window for the whole test: exactly 5 of 10 pass
      PING_INTERVAL_MS: "1000",
      METRICS_MAX_ROOMS: "2",
    });
  });
  afterAll(async () => {
    await s?.stop();
  });

  // Filled by the first test, read by the next ones.
  const open: TestClient[] = [];

  test("exact values after scripted traffic: connections, closes, messages and bytes by kind and format, errors, rooms, rate limits, histograms", async () => {
    const sentBytes: Record<string, number[]> = { alpha: [], beta: [] };
    const say = (c: TestClient, room: string, f: string | Uint8Array) => (c.send(f), sentBytes[room]!.push(byteLen(f)));
    // alpha: A (json), B (protobuf), C (json).
    const a = await join(s.ws, "alpha", "client_id=a");
    const b = await join(s.ws, "alpha", "client_id=b&format=protobuf");
    await got(a, 1, "PRESENCE_JOIN b");
    const c = await join(s.ws, "alpha", "client_id=c");
    await got(a, 2, "PRESENCE_JOIN c");
    await got(b, 1, "PRESENCE_JOIN c");
    const now = Date.now();
    say(a, "alpha", JSON.stringify({ type: "CHAT_MESSAGE", message_id: "a-1", timestamp: now - 500, text: "from a" }));
    await got(b, 2, "chat from a");
    await got(c, 1, "chat from a");
    say(b, "alpha", encodeBinary({ type: MessageType.CHAT_MESSAGE, message_id: "b-1", timestamp: now - 500, payload: "chat_message", chat_message: { message: "from b" } }));
    await got(a, 3, "chat from b");
    await got(c, 2, "chat from b");
    say(c, "alpha", "raw text from c");
    await got(a, 4, "raw from c");
    await got(b, 3, "raw from c");
    say(a, "alpha", JSON.stringify({ type: "PING" }));
    await got(a, 5, "PONG");
    say(b, "alpha", encodeBinary({ type: MessageType.PING, payload: "ping", ping: { client_time: 1 } }));
    await got(b, 4, "PONG");
    say(c, "alpha", new Uint8Array([0xff, 0xff, 0xff, 0xff])); // not a Message
    await got(c, 3, "ERROR BAD_MESSAGE");
    say(a, "alpha", JSON.stringify({ type: "PRESENCE_JOIN", client_id: "a" })); // only the server may
    await got(a, 6, "ERROR FORBIDDEN");

    // beta: D, then F who floods 10 untyped frames with RATE_LIMIT_MESSAGES=5.
    const d = await join(s.ws, "beta", "client_id=d");
    const f = await join(s.ws, "beta", "client_id=f");
    await got(d, 1, "PRESENCE_JOIN f");
    for (let i = 0; i < 10; i++) say(f, "beta", `flood ${i}`);
    await got(f, 1, "ERROR RATE_LIMITED");
    await got(d, 6, "5 relayed floods");

    // gamma: a connection that drops without a close frame (1006).
    const r = RawWs.open(s.port, "/ws/gamma?client_id=r");
    expect(await r.ready).toBe(101);
    await eventually(() => r.frames.length > 0, 5000, "hello on the raw socket");

    // Leaving: C normally (1000), F with its own code (4001), R by dropping TCP.
    await c.close(1000);
    await got(a, 7, "PRESENCE_LEAVE c");
    await got(b, 5, "PRESENCE_LEAVE c");
    await f.close(4001, "bye");
    await got(d, 7, "PRESENCE_LEAVE f");
    r.destroy();
    await eventually(async () => (await metrics(s)).connections.active === 3, 5000, "three connections left");
    open.push(a, b, d);

    // What the clients received, frame by frame.
    const perClient = { a: counted(a), b: counted(b), c: counted(c), d: counted(d), f: counted(f) };
    expect(counts(tally(perClient.a))).toEqual({ "PRESENCE_JOIN/json": 2, "CHAT_MESSAGE/json": 1, "RAW/json": 1, "PONG/json": 1, "ERROR/json": 1, "PRESENCE_LEAVE/json": 1 });
    expect(counts(tally(perClient.b))).toEqual({ "PRESENCE_JOIN/protobuf": 1, "CHAT_MESSAGE/protobuf": 1, "RAW/json": 1, "PONG/protobuf": 1, "PRESENCE_LEAVE/protobuf": 1 });
    expect(counts(tally(perClient.c))).toEqual({ "CHAT_MESSAGE/json": 2, "ERROR/json": 1 });
    expect(counts(tally(perClient.d))).toEqual({ "PRESENCE_JOIN/json": 1, "RAW/json": 5, "PRESENCE_LEAVE/json": 1 });
    expect(counts(tally(perClient.f))).toEqual({ "ERROR/json": 1 });
    const errorCodes = [...perClient.a, ...perClient.c, ...perClient.f].filter((x) => kindOf(x) === "ERROR").map((x) => JSON.parse(x as string).code).sort();
    expect(errorCodes).toEqual(["BAD_MESSAGE", "FORBIDDEN", "RATE_LIMITED"]);
    const all = tally(Object.values(perClient).flat());
    const alphaOut = [...perClient.a, ...perClient.b, ...perClient.c];
    const betaOut = [...perClient.d, ...perClient.f];

    const m = await metrics(s);
    // The seed's shape stays: a text report and a timestamp.
    expect(typeof m.timestamp).toBe("string");
    expect(m.report).toContain("Connections: 3 active / 6 total (1 errors)");
    expect(m.report).toContain(`Messages: 17 received / 23 sent`);
    expect(m.report).toContain("Rooms: 2 active");

    expect(m.connections).toEqual({ active: 3, total: 6, errors: 1 });
    expect(m.disconnections_by_code).toEqual({ "1000": 1, "4001": 1, "1006": 1 });
    // Received: 3 + 2 + 2 in alpha, 10 in beta (the 5 dropped ones count as received).
    const received = [...sentBytes.alpha!, ...sentBytes.beta!];
    expect(m.messages.in).toBe(17);
    expect(m.bytes.in).toBe(received.reduce((x, y) => x + y, 0));
    // Sent: 23 frames, exactly what the clients got (hellos are not counted).
    expect(m.messages.out).toBe(23);
    expect(total(all, "n")).toBe(23);
    expect(m.bytes.out).toBe(total(all, "bytes"));
    // By kind and format. Received: only what passed the rate limit is classified.
    expect(fromJson(m.messages_by_kind, "received")).toEqual({
      "CHAT_MESSAGE/json": 1, "CHAT_MESSAGE/protobuf": 1, "RAW/json": 6, "PING/json": 1, "PING/protobuf": 1, "INVALID/protobuf": 1, "PRESENCE_JOIN/json": 1,
    });
    const rb = sentBytes.alpha!; // alpha's frames in send order: a chat, b chat, c raw, a ping, b ping, c invalid, a presence
    expect(fromJson(m.messages_by_kind, "received_bytes")).toEqual({
      "CHAT_MESSAGE/json": rb[0]!, "CHAT_MESSAGE/protobuf": rb[1]!, "RAW/json": rb[2]! + sentBytes.beta!.slice(0, 5).reduce((x, y) => x + y, 0),
      "PING/json": rb[3]!, "PING/protobuf": rb[4]!, "INVALID/protobuf": 4, "PRESENCE_JOIN/json": rb[6]!,
    });
    expect(fromJson(m.messages_by_kind, "sent")).toEqual({
      "PRESENCE_JOIN/json": 3, "PRESENCE_JOIN/protobuf": 1, "CHAT_MESSAGE/json": 3, "CHAT_MESSAGE/protobuf": 1, "RAW/json": 7,
      "PONG/json": 1, "PONG/protobuf": 1, "ERROR/json": 3, "PRESENCE_LEAVE/json": 2, "PRESENCE_LEAVE/protobuf": 1,
    });
    expect(fromJson(m.messages_by_kind, "sent")).toEqual(counts(all));
    expect(fromJson(m.messages_by_kind, "sent_bytes")).toEqual(bytes(all));
    expect(m.errors_by_code).toEqual({ BAD_MESSAGE: 1, FORBIDDEN: 1, RATE_LIMITED: 1 });
    expect(m.rate_limited).toEqual({ connection: 5, global: 0, connect: 0, closes: 0 });

    // Rooms: gamma is gone (empty); alpha and beta with their members and traffic.
    expect(m.rooms_total).toBe(2);
    expect(m.rooms_other).toBeNull();
    const rooms = Object.fromEntries(m.rooms.map((x: any) => [x.id, x]));
    expect(rooms.alpha).toMatchObject({ connections: 2, messages_in: 7, messages_out: 15, bytes_in: sentBytes.alpha!.reduce((x, y) => x + y, 0), bytes_out: total(tally(alphaOut), "bytes") });
    expect(rooms.beta).toMatchObject({ connections: 1, messages_in: 10, messages_out: 8, bytes_in: sentBytes.beta!.reduce((x, y) => x + y, 0), bytes_out: total(tally(betaOut), "bytes") });

    // Histograms: two messages carried a client timestamp (500 ms old); eleven frames fanned out
    // something (2 chats, 1 + 5 raw relays, 2 pongs, 1 error from a handler) — not the invalid
    // frame, the 5 dropped ones, nor the presence broadcasts of joins and leaves.
    expect(m.message_age_ms.count).toBe(2);
    expect(m.message_age_ms.avg).toBeGreaterThanOrEqual(500);
    expect(m.message_age_ms.max).toBeLessThan(60_000);
    expect(m.latency.fanout_ms.count).toBe(11);

    // The same numbers in the Prometheus text.
    const res = await fetch(`${s.http}/metrics?format=prometheus`);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const fams = pyParse(await res.text(), "text");
    expect(one(fams, "graphwiz_ws_connections_active")).toBe(3);
    expect(one(fams, "graphwiz_ws_connections_opened_total")).toBe(6);
    expect(one(fams, "graphwiz_ws_connection_errors_total")).toBe(1);
    expect(series(fams, "graphwiz_ws_disconnections_total")).toEqual({ "1000": 1, "4001": 1, "1006": 1 });
    expect(one(fams, "graphwiz_ws_messages_received_total")).toBe(17);
    expect(one(fams, "graphwiz_ws_messages_sent_total")).toBe(23);
    expect(one(fams, "graphwiz_ws_received_bytes_total")).toBe(m.bytes.in);
    expect(one(fams, "graphwiz_ws_sent_bytes_total")).toBe(m.bytes.out);
    expect(series(fams, "graphwiz_ws_kind_messages_received_total")).toEqual(fromJson(m.messages_by_kind, "received"));
    expect(series(fams, "graphwiz_ws_kind_received_bytes_total")).toEqual(fromJson(m.messages_by_kind, "received_bytes"));
    expect(series(fams, "graphwiz_ws_kind_messages_sent_total")).toEqual(counts(all));
    expect(series(fams, "graphwiz_ws_kind_sent_bytes_total")).toEqual(bytes(all));
    expect(series(fams, "graphwiz_ws_error_frames_total")).toEqual({ BAD_MESSAGE: 1, FORBIDDEN: 1, RATE_LIMITED: 1 });
    expect(series(fams, "graphwiz_ws_rate_limited_total")).toEqual({ connection: 5, global: 0, connect: 0 });
    expect(one(fams, "graphwiz_ws_rooms_active")).toBe(2);
    expect(series(fams, "graphwiz_ws_room_connections")).toEqual({ alpha: 2, beta: 1 });
    expect(series(fams, "graphwiz_ws_room_messages_received_total")).toEqual({ alpha: 7, beta: 10 });
    expect(series(fams, "graphwiz_ws_room_messages_sent_total")).toEqual({ alpha: 15, beta: 8 });
    expect(series(fams, "graphwiz_ws_room_received_bytes_total")).toEqual({ alpha: rooms.alpha.bytes_in, beta: rooms.beta.bytes_in });
    expect(series(fams, "graphwiz_ws_room_sent_bytes_total")).toEqual({ alpha: rooms.alpha.bytes_out, beta: rooms.beta.bytes_out });
    expect(one(fams, "graphwiz_ws_message_age_seconds_count")).toBe(2);
    expect(one(fams, "graphwiz_ws_message_age_seconds_sum")).toBeGreaterThanOrEqual(1);
    expect(series(fams, "graphwiz_ws_message_age_seconds_bucket")["+Inf"]).toBe(2);
    expect(one(fams, "graphwiz_ws_fanout_duration_seconds_count")).toBe(11);
    expect(series(fams, "graphwiz_ws_fanout_duration_seconds_bucket")["+Inf"]).toBe(11);
  });

  test("live Prometheus text and OpenMetrics parse with promtool and prometheus_client; METRICS_MAX_ROOMS caps the room series", async () => {
    // Three more rooms (one literally named "_other"): with METRICS_MAX_ROOMS=2 only the two
    // busiest (alpha, beta) keep their own series; the rest are summed under room="_other".
    for (const room of ["quiet-1", "quiet-2", "_other"]) open.push(await join(s.ws, room));
    await eventually(async () => (await metrics(s)).connections.active === 6, 5000, "six connections");

    const text = await (await fetch(`${s.http}/metrics?format=prometheus`)).text();
    const check = promtoolCheck(text);
    expect(check.output).toBe("");
    expect(check.ok).toBe(true);
    const tf = pyParse(text, "text");
    expect(series(tf, "graphwiz_ws_room_connections")).toEqual({ alpha: 2, beta: 1, _other: 3 });
    expect(series(tf, "graphwiz_ws_room_messages_received_total")).toEqual({ alpha: 7, beta: 10, _other: 0 });
    expect(one(tf, "graphwiz_ws_rooms_active")).toBe(5);
    expect(series(tf, "graphwiz_ws_build_info")).toEqual({ [`0.1.0/${runtime}`]: 1 });

    // OpenMetrics, as Prometheus itself asks for it.
    const scrape = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    for (const accept of ["application/openmetrics-text; version=1.0.0", scrape]) {
      const res = await fetch(`${s.http}/metrics`, { headers: { Accept: accept } });
      expect(res.headers.get("content-type")).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
      const om = await res.text();
      expect(om.endsWith("# EOF\n")).toBe(true);
      const prom = promtoolOpenMetrics(om);
      expect(prom.ok, prom.output).toBe(true);
      const of = pyParse(om, "openmetrics");
      expect(series(of, "graphwiz_ws_room_connections")).toEqual({ alpha: 2, beta: 1, _other: 3 });
      expect(one(of, "graphwiz_ws_connections_opened_total")).toBe(one(tf, "graphwiz_ws_connections_opened_total"));
      expect(series(of, "graphwiz_ws_kind_messages_sent_total")).toEqual(series(tf, "graphwiz_ws_kind_messages_sent_total"));
      expect(of.find((f) => f.name === "graphwiz_ws_fanout_duration_seconds")).toMatchObject({ type: "histogram", unit: "seconds" });
      expect(of.find((f) => f.name === "graphwiz_ws_sent_bytes")).toMatchObject({ type: "counter", unit: "bytes" });
    }
    expect((await fetch(`${s.http}/metrics?format=openmetrics`)).headers.get("content-type")).toStartWith("application/openmetrics-text");
    // JSON stays the default (the seed's clients read `report`), and the same cap applies there.
    const m = await metrics(s);
    expect(m.rooms.map((r: any) => r.id)).toEqual(["alpha", "beta"]);
    expect(m.rooms_other).toMatchObject({ rooms: 3, connections: 3 });
    expect(m.rooms_total).toBe(5);
  });

  test(runtime === "deno" ? "round trips: Deno cannot ping from JavaScript, so none are recorded" : "round trips: every answered ping is one round-trip sample", async () => {
    for (const c of open.splice(0)) await c.close();
    await eventually(async () => (await metrics(s)).connections.active === 0, 5000, "no connections");
    const before = (await metrics(s)).round_trip_ms.count as number;
    if (runtime === "deno") {
      expect(before).toBe(0);
      return;
    }
    // A socket that answers two pings by hand: each answer is exactly one sample (a count
    // that skipped a value would never equal before + 1).
    const raw = RawWs.open(s.port, "/ws/rtt");
    expect(await raw.ready).toBe(101);
    const pings = () => raw.frames.filter((x) => x.opcode === 9);
    for (let i = 0; i < 2; i++) {
      await eventually(() => pings().length > i, 10_000, `ping ${i + 1}`);
      raw.send(10, pings()[i]!.payload);
      await eventually(async () => (await metrics(s)).round_trip_ms.count === before + i + 1, 5000, `round trip ${i + 1}`);
    }
    const fams = pyParse(await (await fetch(`${s.http}/metrics?format=prometheus`)).text(), "text");
    expect(one(fams, "graphwiz_ws_round_trip_seconds_count")).toBe(before + 2);
    expect(series(fams, "graphwiz_ws_round_trip_seconds_bucket")["+Inf"]).toBe(before + 2);
    raw.destroy();
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------

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
    expect(await ready.json()).toEqual({ status: "ready" });
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
