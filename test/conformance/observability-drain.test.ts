/**
 * [observability] graceful drain on SIGTERM, against the real server on every runtime:
 * readiness, refused upgrades, batched 1001 closes, the exit, and queued data flushed first.
 */
import { describe, expect, test } from "bun:test";
import { eventually, join, type TestClient } from "../helpers/client.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { sdk } from "../helpers/sdk.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";
import { MessageType } from "../../src/protocol/types.ts";

const logsOf = (s: RunningServer) => s.lines.map((l) => JSON.parse(l));
/** Waits for the process to exit (a hang fails the test instead of blocking the suite). */
/** A WebSocket client that upgrades and then ignores everything: it never answers the server's close frame. */
async function deafClient(port: number, path: string): Promise<{ status: number; destroy(): void }> {
  let head = "";
  let gotStatus!: (n: number) => void;
  const status = new Promise<number>((r) => (gotStatus = r));
  const sock = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, d) {
        if (head.includes("\r\n\r\n")) return;
        head += d.toString("latin1");
        if (head.includes("\r\n\r\n")) gotStatus(Number(head.split(" ")[1]));
      },
    },
  });
  sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
  return { status: await status, destroy: () => sock.terminate() };
}

async function exitCode(s: RunningServer, timeoutMs: number): Promise<number> {
  const timer = setTimeout(() => s.proc.kill("SIGKILL"), timeoutMs);
  const code = await s.exited;
  clearTimeout(timer);
  return code;
}

describe.each(RUNTIMES)("observability: drain on %s", (runtime) => {
  test("SIGTERM: /ready 503 with the reason at once, upgrades 503, clients closed 1001 in batches of DRAIN_BATCH, exit 0 within DRAIN_TIMEOUT_MS", async () => {
    const BATCH = 5, CLIENTS = 25, TIMEOUT = 2000;
    const s = await startServer(runtime, { DRAIN_BATCH: String(BATCH), DRAIN_TIMEOUT_MS: String(TIMEOUT) });
    try {
      const ready = await fetch(`${s.http}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ready", cluster: { backend: "memory", healthy: true } });
      const clients: TestClient[] = [];
      for (let i = 0; i < CLIENTS; i++) clients.push(await join(s.ws, `drain-${i % 5}`, `client_id=c${i}`));
      // One more that never answers the close: it must not hold the drain up.
      const stuck = await deafClient(s.port, "/ws/drain-stuck");
      expect(stuck.status).toBe(101);
      await eventually(async () => (await (await fetch(`${s.http}/ws/stats`)).json()).total_connections === CLIENTS + 1, 5000, "every client in");

      s.proc.kill("SIGTERM");
      // The first 1001 means the drain is under way; the last is at least four batches later.
      await Promise.race(clients.map((c) => c.closedP));
      const notReady = await fetch(`${s.http}/ready`);
      const late = RawWs.open(s.port, "/ws/drain-late");
      const lateStatus = await late.ready;
      late.destroy();
      expect(clients.filter((c) => c.closeEvent).length).toBeLessThan(CLIENTS);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ status: "not_ready", reason: "draining", cluster: { backend: "memory", healthy: true } });
      expect(lateStatus).toBe(503);
      expect(late.response).toContain('"error":"draining"');
      expect(late.response.toLowerCase()).toContain("retry-after: 1");

      const closes = await Promise.all(clients.map((c) => c.closedP));
      expect(closes.map((c) => c.code)).toEqual(Array(CLIENTS).fill(1001));
      expect(await exitCode(s, TIMEOUT + 15_000)).toBe(0);
      stuck.destroy();

      const logs = logsOf(s);
      const start = Date.parse(logs.find((o) => o.event === "drain_start")!.time);
      expect(logs.find((o) => o.event === "drain_start")).toMatchObject({ connections: CLIENTS + 1 });
      const closed = logs.filter((o) => o.event === "connection_close" && o.code === 1001).map((o) => Date.parse(o.time) - start);
      expect(closed.length).toBeGreaterThanOrEqual(CLIENTS);
      // Batches: a close follows its close() call, and the k-th batch's close() calls come at
      // least k × 100 ms after the start (with 5 ms for timer and clock rounding), so before
      // that at most k × DRAIN_BATCH connections can have closed.
      for (let k = 1; k * BATCH < CLIENTS; k++) {
        const early = closed.filter((t) => t < k * 100 - 5).length;
        expect(early, `closes in the first ${k * 100} ms`).toBeLessThanOrEqual(k * BATCH);
      }
      const rejected = logs.find((o) => o.event === "upgrade_rejected");
      expect(rejected).toMatchObject({ level: "info", room: "drain-late", status: 503 });
      const end = logs.find((o) => o.event === "drain_end")!;
      // The server's close is final: nobody is left, the deaf client included.
      expect(end).toMatchObject({ clean: true, remaining: 0 });
      expect(logs.at(-1)).toMatchObject({ event: "shutdown", clean: end.clean });
    } finally {
      await s.stop("SIGKILL");
    }
  }, 40_000);

  test("a burst still queued for a slow client when SIGTERM comes reaches it in full and in order, before its 1001", async () => {
    const s = await startServer(runtime, { ...SLOW, DRAIN_TIMEOUT_MS: "20000" });
    try {
      const { reader, sent } = await backlog(s);
      s.proc.kill("SIGTERM");
      await eventually(async () => (await fetch(`${s.http}/ready`)).status === 503, 5000, "the drain to start");
      reader.sock.resume();
      await reader.ended;
      expect(chatNumbers(reader)).toEqual(Array.from({ length: sent }, (_, i) => i));
      const last = reader.frames.at(-1)!;
      expect(last.opcode).toBe(8); // the close frame comes after every chat
      expect(last.payload.readUInt16BE(0)).toBe(1001);
      expect(await exitCode(s, 35_000)).toBe(0);
    } finally {
      await s.stop("SIGKILL");
    }
  }, 60_000);

  test("a client that never takes its backlog holds the drain only until DRAIN_TIMEOUT_MS; the others are closed first; exit 0", async () => {
    const TIMEOUT = 1500;
    const s = await startServer(runtime, { ...SLOW, DRAIN_TIMEOUT_MS: String(TIMEOUT) });
    try {
      const { reader } = await backlog(s);
      const other = await join(s.ws, "elsewhere", "client_id=other");
      s.proc.kill("SIGTERM");
      expect((await other.closedP).code).toBe(1001);
      const ready = await fetch(`${s.http}/ready`); // the reader still holds the drain open
      expect(ready.status).toBe(503);
      expect(await exitCode(s, TIMEOUT + 15_000)).toBe(0);
      reader.destroy();
      const logs = logsOf(s);
      const at = (pred: (o: any) => boolean) => Date.parse(logs.find(pred)!.time);
      const start = at((o) => o.event === "drain_start");
      // The loop runs until the deadline, so the drain cannot end sooner; the reader is closed
      // only then, after everyone else.
      expect(at((o) => o.event === "drain_end") - start).toBeGreaterThanOrEqual(TIMEOUT);
      const readerId = logs.find((o) => o.event === "connection_open" && o.client === "reader")!.connection;
      const closes = logs.filter((o) => o.event === "connection_close");
      expect(closes.at(-1)).toMatchObject({ connection: readerId, code: 1001 });
      expect(closes.length).toBe(3); // the sender and the other client before it
      expect(Date.parse(closes.at(-1)!.time) - start).toBeGreaterThanOrEqual(TIMEOUT);
    } finally {
      await s.stop("SIGKILL");
    }
  }, 60_000);
});

/** Settings under which a client that stops reading soon has data waiting in the server. */
const SLOW = {
  RATE_LIMIT_MESSAGES: "0", SLOW_CONSUMER_SOFT_BYTES: "16384", SLOW_CONSUMER_HARD_BYTES: "268435456",
  MAX_MESSAGE_BYTES: "100000", PING_INTERVAL_MS: "600000",
};

/**
 * A reader that stopped reading, and a sender whose chats (numbered, 48 KB each) pile up for it
 * until the server holds data it could not hand over yet; resolves once every chat has been
 * fanned out (the sender's PING was answered).
 */
async function backlog(s: RunningServer): Promise<{ reader: RawWs; sent: number }> {
  const reader = RawWs.open(s.port, "/ws/burst?client_id=reader");
  expect(await reader.ready).toBe(101);
  reader.sock.pause();
  const sender = await sdk(s.ws, "burst", { clientId: "sender" });
  const pad = "z".repeat(48_000);
  let sent = 0;
  const queued = async () => (await (await fetch(`${s.http}/metrics`)).json()).delivery.queued_bytes as number;
  while ((await queued()) === 0) {
    expect(sent, "the reader never fell behind").toBeLessThan(2000);
    for (let i = 0; i < 10; i++) sender.client.sendChat(`${sent++}:${pad}`);
    await Bun.sleep(20);
  }
  for (let i = 0; i < 20; i++) sender.client.sendChat(`${sent++}:${pad}`);
  sender.client.ping();
  await sender.nOf(MessageType.PONG, 1, 20_000);
  expect(await queued()).toBeGreaterThan(0);
  return { reader, sent };
}

/** The numbers of the chats a raw reader received, in arrival order. */
const chatNumbers = (r: RawWs) =>
  r.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString())).filter((m) => m.type === "CHAT_MESSAGE").map((m) => Number(m.payload.message.split(":")[0]));
