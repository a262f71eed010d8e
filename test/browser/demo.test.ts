/**
 * [sdk] Chromium meets the SDK as users do:
 * - the live demo page (`/demo/{room}`, served by the server on the served SDK bundle) with
 *   bots walking (scripts/bots.ts): avatars, moving positions, chat both ways, entities and their
 *   colour changes drawn on the map, a second tab; a screenshot to test-results/demo.png (and,
 *   with UPDATE_DEMO_PNG=1, to docs/demo.png — the README's picture);
 * - the packed tarball's `dist/browser.js` running the same chat + presence + entity script as
 *   Node, Deno and Bun (test/sdk/package.test.ts), fetching `dist/protobuf.js` only when a
 *   client asks for protobuf.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { startBots, type Bots } from "../../scripts/bots.ts";
import { ROOT, startServer, type RunningServer } from "../helpers/server.ts";
import { installedProject } from "../sdk/install.ts";
import { EXPECTED, smokeScript } from "../sdk/smoke.ts";
import { launch, serveStatic } from "./browser.ts";

let s: RunningServer;
let browser: Browser;
beforeAll(async () => {
  [s, browser] = await Promise.all([startServer("bun"), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

/** A fixed random sequence, so the bots walk the same way every run. */
function seeded(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}
/** The page's SDK state. */
const demoState = (p: Page) => p.evaluate(() => {
  const c = (window as any).demo.client;
  return {
    ready: (window as any).demo.ready as boolean,
    self: c.clientId as string,
    players: [...c.players.values()].map((p: any) => ({ id: p.client_id, name: p.display_name, x: p.position?.x ?? null })),
    entities: Object.fromEntries([...c.entities.values()].map((e: any) => [e.id, e.components.color])),
  };
});
/** Pixels of the map canvas within ±12 of an RGB colour. */
const pixelsOf = (p: Page, rgb: [number, number, number]) => p.evaluate((rgb) => {
  const c = document.getElementById("map") as HTMLCanvasElement;
  const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i]! - rgb[0]) < 12 && Math.abs(d[i + 1]! - rgb[1]) < 12 && Math.abs(d[i + 2]! - rgb[2]) < 12) n++;
  return n;
}, rgb);

describe("the live demo page with bots", () => {
  let bots: Bots;
  afterAll(() => bots?.stop());

  test("shows the bots walking, their crates and chat; the visitor chats, walks and drops a box; a second tab sees it all", async () => {
    const room = "demo-live";
    bots = await startBots({ url: s.ws, room, n: 6, hz: 10, random: seeded(42) });
    const page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("request", (r) => requests.push(new URL(r.url()).pathname));
    await page.goto(`${s.http}/demo/${room}?name=Visitor`);
    await page.waitForFunction(() => (window as any).demo?.ready === true, undefined, { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="player-count"]')?.textContent === "7", undefined, { timeout: 5000 });
    const first = await demoState(page);
    expect(first.players.map((p) => p.name).sort()).toEqual(["Ada (bot)", "Bo (bot)", "Cy (bot)", "Dee (bot)", "Eli (bot)", "Fay (bot)", "Visitor"]);
    expect(Object.keys(first.entities).sort()).toEqual(bots.clients.filter((_, i) => i % 4 === 0).map((c) => `crate-${c.clientId}`).sort());
    expect(await page.locator('[data-testid="player"]').count()).toBe(7);

    // The bots move: the page's positions for them change.
    await Bun.sleep(600);
    const later = await demoState(page);
    const moved = later.players.filter((p) => p.id !== first.self && p.x !== first.players.find((q) => q.id === p.id)!.x);
    expect(moved.length).toBe(6);

    // A bot recolours its crate: the page's state and its map follow (magenta squares appear).
    const crate = `crate-${bots.clients[0]!.clientId}`;
    bots.clients[0]!.updateEntity(crate, { color: "#ff00ff" });
    await page.waitForFunction((id) => (window as any).demo.client.entities.get(id)?.components.color === "#ff00ff", crate, { timeout: 5000 });
    await Bun.sleep(100);
    expect(await pixelsOf(page, [255, 0, 255])).toBeGreaterThan(40);

    // Chat both ways.
    bots.clients[1]!.sendChat("hello, visitor");
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="chat-line"]')].some((l) => l.textContent === "Bo (bot): hello, visitor"), undefined, { timeout: 5000 });
    const heard = bots.clients[2]!.next("chat", (c) => c.from_client_id === first.self);
    await page.fill('[data-testid="chat-input"]', "hi bots!");
    await page.press('[data-testid="chat-input"]', "Enter");
    expect((await heard)[0]).toMatchObject({ message: "hi bots!", type: "NORMAL" });

    // The visitor walks (a click on the map) and drops a box: the bots see both.
    const box = bots.clients[3]!.next("entity", (e) => e.kind === "spawn" && e.entity.owner_id === first.self);
    await page.click('[data-testid="map"]', { position: { x: 700, y: 200 } });
    await page.click('[data-testid="drop-box"]');
    expect((await box)[0].entity.template_id).toBe("box");
    await bots.clients[3]!.next("position", (p) => p.entity_id === first.self && (p.position?.x ?? 0) > 1);

    // A second tab: everyone, the visitor and its box included.
    const second = await browser.newPage();
    await second.goto(`${s.http}/demo/${room}?name=Second`);
    await second.waitForFunction(() => (window as any).demo?.ready === true, undefined, { timeout: 10_000 });
    const seen = await demoState(second);
    expect(seen.players.map((p) => p.name).sort()).toContain("Visitor");
    expect(seen.players).toHaveLength(8);
    expect(Object.keys(seen.entities)).toHaveLength(3);
    await page.waitForFunction(() => document.querySelector('[data-testid="player-count"]')?.textContent === "8", undefined, { timeout: 5000 });
    await second.close();

    // Nothing went wrong in the page; no CDN, no protobuf: only the page, the SDK and the page's script.
    expect(problems).toEqual([]);
    expect([...new Set(requests)].filter((r) => r !== "/favicon.ico").sort()).toEqual([`/demo/${room}`, "/sdk/demo-app.js", "/sdk/graphwiz-ws-client.js"]);

    await Bun.sleep(800); // let the chat bubbles and dots settle for the picture
    mkdirSync(join(ROOT, "test-results"), { recursive: true });
    const png = await page.screenshot({ path: join(ROOT, "test-results/demo.png") });
    if (process.env.UPDATE_DEMO_PNG === "1") await Bun.write(join(ROOT, "docs/demo.png"), png);
    await page.close();
  }, 60_000);
});

describe("the packed tarball in Chromium", () => {
  test("dist/browser.js runs the same script as Node, Deno and Bun; protobuf.js is fetched only for the protobuf client", async () => {
    const pkg = join(await installedProject(), "node_modules/graphwiz-ws-client");
    const html = (script: string) => new Response(`<!doctype html><meta charset="utf-8"><script type="module">${script}</script>`, { headers: { "Content-Type": "text/html" } });
    const files = serveStatic((path) => {
      if (path === "/json-only") return html(`import { GraphwizClient } from "/pkg/dist/browser.js";\nconst c = new GraphwizClient(${JSON.stringify({ url: s.ws, room: "pkg-json-only" })});\nc.connect().then((h) => (window.done = h.client_id, c.close()));`);
      if (path === "/smoke") return html(smokeScript("browser", [s.ws, "pkg-chromium"]));
      if (path.startsWith("/pkg/")) return new Response(readFileSync(join(pkg, path.slice(5))), { headers: { "Content-Type": "text/javascript" } });
    });
    const requests = files.requests;
    try {
      const page = await browser.newPage();
      await page.goto(`${files.url}json-only`);
      await page.waitForFunction(() => typeof (window as any).done === "string", undefined, { timeout: 10_000 });
      expect(requests.filter((r) => r.startsWith("/pkg/"))).toEqual(["/pkg/dist/browser.js"]);
      await page.goto(`${files.url}smoke`);
      await page.waitForFunction(() => typeof (window as any).smokeResult === "string", undefined, { timeout: 20_000 });
      expect(JSON.parse(await page.evaluate(() => (window as any).smokeResult))).toEqual({ ...EXPECTED, globalWebSocket: "function" });
      expect(requests).toContain("/pkg/dist/protobuf.js");
      await page.close();
    } finally {
      files.stop();
    }
  }, 120_000);
});
