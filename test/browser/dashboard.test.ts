/**
 * [observability] the live dashboard in Chromium: opened with `?token=` on a server with
 * METRICS_TOKEN, it must follow real traffic — connections, room members, message rates,
 * totals and the fan-out latency chart — and end up showing exactly the server's numbers.
 *
 * Also saves a screenshot with live traffic to test-results/dashboard.png; with
 * UPDATE_DASHBOARD_PNG=1 it is written to docs/dashboard.png too (the README's picture), and
 * DASHBOARD_TRAFFIC_S=<seconds> lets the traffic run longer first for a fuller chart.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { sdk, type Recorder } from "../helpers/sdk.ts";
import { ROOT, startServer, type RunningServer } from "../helpers/server.ts";
import { launch } from "./browser.ts";

const TOKEN = `dash-${crypto.randomUUID()}`;
const TRAFFIC_S = Number(process.env.DASHBOARD_TRAFFIC_S ?? 0);

/** A number the page shows, from its `data-value`. */
const shown = (page: Page, testid: string) => page.getAttribute(`[data-testid="${testid}"]`, "data-value").then((v) => (v === null || v === "" ? NaN : Number(v)));
const roomShown = (page: Page, room: string) =>
  page.getAttribute(`tr[data-testid="room-row"][data-room="${room}"] [data-testid="room-connections"]`, "data-value", { timeout: 1000 }).then(Number).catch(() => NaN);
/** Waits until the page shows `want` (checked on every poll the page makes). */
async function until(what: string, read: () => Promise<number>, want: (v: number) => boolean, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let v = await read();
  while (!want(v)) {
    if (Date.now() > deadline) throw new Error(`dashboard never showed ${what} (last: ${v})`);
    await Bun.sleep(100);
    v = await read();
  }
  return v;
}
/** Pixels of a chart canvas close to one of `colors` (its lines). */
const linePixels = (page: Page, id: string, colors: number[][]) =>
  page.evaluate(({ id, colors }) => {
    const c = document.getElementById(id) as HTMLCanvasElement;
    const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3]! > 100 && colors.some(([r, g, b]) => Math.abs(d[i]! - r!) < 40 && Math.abs(d[i + 1]! - g!) < 40 && Math.abs(d[i + 2]! - b!) < 40)) n++;
    }
    return n;
  }, { id, colors });
const LATENCY = [[0x4f, 0xc3, 0xf7], [0xff, 0x8a, 0x65]]; // p50, p99
const RATES = [[0x81, 0xc7, 0x84], [0xce, 0x93, 0xd8]]; // in, out

describe("browser: the live dashboard", () => {
  let s: RunningServer;
  let browser: Browser;
  beforeAll(async () => {
    [s, browser] = await Promise.all([startServer("bun", { METRICS_TOKEN: TOKEN }), launch()]);
  });
  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  test("follows live traffic: connections, room members, rates, latency chart, and ends on the server's exact totals", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
    await page.goto(`${s.http}/dashboard?token=${TOKEN}`);
    // The token from the URL authorises the page's own fetches.
    await page.waitForSelector('[data-testid="status"][data-state="live"]', { timeout: 10_000 });
    expect(await shown(page, "active-connections")).toBe(0);
    expect(await shown(page, "rooms-total")).toBe(0);
    expect(await page.textContent('[data-testid="rooms-empty"]')).toBe("No rooms yet");
    expect(await linePixels(page, "latency-chart", LATENCY)).toBe(0);

    // Clients arrive: three in the lobby, two (one protobuf) on the plaza, one in the atrium.
    const join = (room: string, i: number, format: "json" | "protobuf" = "json") => sdk(s.ws, room, { clientId: `${room}-${i}`, displayName: `${room} ${i}`, format });
    const clients: Recorder[] = [];
    for (const [room, n] of [["lobby", 3], ["plaza", 2], ["atrium", 1]] as const) {
      for (let i = 0; i < n; i++) clients.push(await join(room, i, room === "plaza" && i === 1 ? "protobuf" : "json"));
    }
    await until("6 active connections", () => shown(page, "active-connections"), (v) => v === 6);
    await until("3 rooms", () => shown(page, "rooms-total"), (v) => v === 3);
    await until("3 in the lobby", () => roomShown(page, "lobby"), (v) => v === 3);
    await until("2 on the plaza", () => roomShown(page, "plaza"), (v) => v === 2);
    await until("1 in the atrium", () => roomShown(page, "atrium"), (v) => v === 1);

    // Avatars move at 20 Hz and people chat, until the latency chart has a line (two completed
    // one-second slots with broadcasts) and the page has measured rates.
    let tick = 0;
    const traffic = setInterval(() => {
      tick++;
      clients.forEach((c, i) => {
        if (c.client.options.room === "atrium") return; // alone: nothing to fan out
        c.client.sendPosition({ x: Math.sin(tick / 10 + i), y: 1.6, z: Math.cos(tick / 10 + i) });
        if ((tick + i * 7) % 20 === 0) c.client.sendChat(`hello ${tick}`);
      });
    }, 50);
    try {
      await until("messages in per second", () => shown(page, "msgs-in-per-s"), (v) => v > 0);
      await until("messages out per second", () => shown(page, "msgs-out-per-s"), (v) => v > 0);
      await until("a latency line", () => linePixels(page, "latency-chart", LATENCY), (v) => v > 20, 15_000);
      await until("a rate line", () => linePixels(page, "rate-chart", RATES), (v) => v > 20, 15_000);
      expect(await shown(page, "latency-p50")).toBeGreaterThan(0);
      expect(await shown(page, "latency-p99")).toBeGreaterThanOrEqual(await shown(page, "latency-p50"));
      if (TRAFFIC_S > 0) await Bun.sleep(TRAFFIC_S * 1000);
      mkdirSync(`${ROOT}/test-results`, { recursive: true });
      const png = await page.screenshot({ path: `${ROOT}/test-results/dashboard.png`, fullPage: true });
      if (process.env.UPDATE_DASHBOARD_PNG === "1") await Bun.write(`${ROOT}/docs/dashboard.png`, png);
    } finally {
      clearInterval(traffic);
    }

    // Traffic stopped: once the last frames are through, the page shows the server's totals.
    const metrics = async () => (await fetch(`${s.http}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json() as Promise<any>;
    let m = await metrics();
    for (;;) {
      await Bun.sleep(200);
      const next = await metrics();
      if (next.messages.out === m.messages.out && next.messages.in === m.messages.in) break;
      m = next;
    }
    expect(m.messages.in).toBeGreaterThan(0);
    await until(`${m.messages.in} messages in`, () => shown(page, "msgs-in-total"), (v) => v === m.messages.in);
    await until(`${m.messages.out} messages out`, () => shown(page, "msgs-out-total"), (v) => v === m.messages.out);
    await until(`${m.latency.fanout_ms.count} broadcasts`, () => shown(page, "latency-count"), (v) => v === m.latency.fanout_ms.count);
    const rooms = Object.fromEntries(m.rooms.map((r: any) => [r.id, r]));
    const cell = (room: string, col: string) => page.getAttribute(`tr[data-room="${room}"] [data-testid="${col}"]`, "data-value").then(Number);
    for (const room of ["lobby", "plaza", "atrium"]) {
      expect(await cell(room, "room-messages-in")).toBe(rooms[room].messages_in);
      expect(await cell(room, "room-messages-out")).toBe(rooms[room].messages_out);
    }
    // Busiest first.
    expect(await page.$$eval('tr[data-testid="room-row"]', (rows) => rows.map((r) => r.getAttribute("data-room")))).toEqual(m.rooms.map((r: any) => r.id));

    // People leave: the lobby empties, the atrium goes away.
    for (const c of clients.filter((c) => c.client.options.room !== "plaza")) c.client.close();
    await until("2 active connections", () => shown(page, "active-connections"), (v) => v === 2);
    await until("1 room", () => shown(page, "rooms-total"), (v) => v === 1);
    expect(await page.$$eval('tr[data-testid="room-row"]', (rows) => rows.map((r) => r.getAttribute("data-room")))).toEqual(["plaza"]);
    for (const c of clients) c.client.close();
    await page.close();
  }, 60_000 + TRAFFIC_S * 1000);

  test("a page whose fetches carry no token says so instead of showing numbers", async () => {
    // The page request alone is authorised (as a proxy in front could do it), not via ?token=,
    // so the page's own /metrics fetches go out without a token and the server refuses them.
    const page = await browser.newPage();
    await page.route("**/dashboard", (route) => route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${TOKEN}` } }));
    const refused: number[] = [];
    page.on("response", (r) => r.url().includes("/metrics") && refused.push(r.status()));
    await page.goto(`${s.http}/dashboard`);
    await page.waitForSelector('[data-testid="status"][data-state="auth"]', { timeout: 10_000 });
    expect(refused[0]).toBe(401);
    expect(await page.getAttribute('[data-testid="active-connections"]', "data-value")).toBeNull();
    expect((await page.goto(`${s.http}/dashboard?token=wrong`))?.status()).toBe(401);
    await page.close();
  });
});
