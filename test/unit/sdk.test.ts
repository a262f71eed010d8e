import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { backoffDelay } from "../../src/client/backoff.ts";
import { GraphwizClient } from "../../src/client/index.ts";
import { reconnectAdvice } from "../../src/errors.ts";
import { startServer, type RunningServer } from "../helpers/server.ts";

describe("backoff", () => {
  test("doubles from 250 ms to a 10 s cap, each delay jittered within [½, 1] of its base", () => {
    expect(backoffDelay(0, {}, () => 1)).toBe(250);
    expect(backoffDelay(0, {}, () => 0)).toBe(125);
    expect(backoffDelay(3, {}, () => 1)).toBe(2000);
    expect(backoffDelay(20, {}, () => 1)).toBe(10_000);
    expect(backoffDelay(20, {}, () => 0)).toBe(5000);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4)));
    expect(spread.size).toBeGreaterThan(10);
  });
  test("close-code advice", () => {
    expect(reconnectAdvice(1000)).toBe("never");
    expect(reconnectAdvice(1001)).toBe("backoff");
    expect(reconnectAdvice(1006)).toBe("backoff");
    expect(reconnectAdvice(4000)).toBe("now");
    expect(reconnectAdvice(4101)).toBe("backoff");
    expect(reconnectAdvice(4401)).toBe("never");
  });
});

describe("SDK reconnect against a real server", () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer("bun", { MAX_MESSAGE_BYTES: "1000" });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("reconnects with the same client id after an unexpected close, and never after close()", async () => {
    const c = new GraphwizClient({ url: s.ws, room: "sdk-re", reconnect: { initialMs: 20, maxMs: 50 } });
    const first = await c.connect();
    const closes: number[] = [];
    c.on("close", (e) => closes.push(e.code));
    const again = c.next("hello");
    c.sendRaw("x".repeat(2000)); // too big: the server closes with 1009
    const [second] = await again;
    expect(closes).toEqual([1009]);
    expect(second.client_id).toBe(first.client_id);
    expect(second.connection_id).not.toBe(first.connection_id);
    c.close();
    await Bun.sleep(200);
    const stats = await (await fetch(`${s.http}/ws/sdk-re/stats`)).json();
    expect(stats.connection_count).toBe(0);
  });
});
