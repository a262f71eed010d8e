/**
 * [observability] metric values, Prometheus/OpenMetrics and round trips, against the real server
 * on every runtime. Metric values are checked exactly: each expected number is computed by hand
 * from the scripted traffic AND cross-checked against what the clients really received.
 * (METRICS_TOKEN and logs: observability-token-logs.test.ts; drain and readiness:
 * observability-drain.test.ts; the dashboard page: test/browser/.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, join, type TestClient } from "../helpers/client.ts";
import { bytes, byteLen, counted, counts, fromJson, got, kindOf, metrics, one, series, tally, total } from "../helpers/metrics-tally.ts";
import { pyParse, promtoolCheck, promtoolOpenMetrics } from "../helpers/prom-parse.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { RUNTIMES, type RunningServer, startServer } from "../helpers/server.ts";
import { encodeBinary } from "../../src/protocol/proto.ts";
import { MessageType } from "../../src/protocol/types.ts";

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

  // Every runtime pings (Deno too, since it runs the Node host).
  test("round trips: every answered ping is one round-trip sample", async () => {
    for (const c of open.splice(0)) await c.close();
    await eventually(async () => (await metrics(s)).connections.active === 0, 5000, "no connections");
    const before = (await metrics(s)).round_trip_ms.count as number;
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
