/**
 * [sdk] a real browser client: the SDK's browser build (client/build.ts) runs inside Chromium
 * (its page on its own origin) and talks to the real server on every runtime, in JSON and in
 * protobuf (the protobuf codec loaded on demand, only then), with a Bun-side SDK client in the
 * other format. Each runtime also serves the demo page and the SDK bundle itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { sdk } from "../helpers/sdk.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { SDK_BROWSER_JS } from "../../src/http/sdk-bundle.generated.ts";
import { launch, servePage } from "./browser.ts";

let browser: Browser;
let page: Awaited<ReturnType<typeof servePage>>;
beforeAll(async () => {
  [browser, page] = await Promise.all([launch(), servePage()]);
});
afterAll(async () => {
  await browser?.close();
  page?.stop();
});

/** What the in-page client recorded (see `openInPage`). */
interface PageLog {
  presence: { kind: string; client_id: string; display_name: string | null; source: string; self: boolean }[];
  chats: { from: string; message: string }[];
  frames: { text: number; binary: number };
  players: string[];
}
const pageLog = (p: Page) => p.evaluate(() => {
  const w = window as any;
  return { ...w.log, players: [...w.client.players.keys()] } as PageLog;
});

/** Connects an SDK client inside the page and records what it receives. */
function openInPage(p: Page, opts: { url: string; room: string; clientId: string; format: string }) {
  return p.evaluate(async (o) => {
    const w = window as any;
    const c = new w.sdk.GraphwizClient({ ...o, displayName: "Chromium", reconnect: false });
    const log = { presence: [] as unknown[], chats: [] as unknown[], frames: { text: 0, binary: 0 } };
    c.on("presence", (ev: any) => log.presence.push({ kind: ev.kind, client_id: ev.client_id, display_name: ev.player.display_name ?? null, source: ev.source, self: ev.self }));
    c.on("chat", (chat: any) => log.chats.push({ from: chat.from_client_id, message: chat.message }));
    const hello = await c.connect();
    // Every frame after the JSON hello, as the browser's own WebSocket delivered it.
    c.socket.addEventListener("message", (e: MessageEvent) => (typeof e.data === "string" ? log.frames.text++ : log.frames.binary++));
    w.client = c;
    w.log = log;
    return { clientId: c.clientId as string, room: hello.room_id as string, userAgent: navigator.userAgent };
  }, opts);
}

describe.each(RUNTIMES)("browser: the client SDK inside Chromium against %s", (runtime) => {
  let s: RunningServer;
  let tab: Page;
  beforeAll(async () => {
    [s, tab] = await Promise.all([startServer(runtime), browser.newPage()]);
    await tab.goto(page.url);
    await tab.waitForFunction(() => (window as any).sdkReady === true, undefined, { timeout: 10_000 });
  });
  afterAll(async () => {
    await tab?.close();
    await s?.stop();
  });

  test("serves the demo page and the SDK's browser bundle", async () => {
    const demo = await fetch(`${s.http}/demo/lobby`);
    expect(demo.status).toBe(200);
    expect(demo.headers.get("content-type")).toContain("text/html");
    expect(await demo.text()).toContain('<script type="module" src="/sdk/demo-app.js">');
    const js = await fetch(`${s.http}/sdk/graphwiz-ws-client.js`);
    expect(js.headers.get("content-type")).toContain("text/javascript");
    expect(await js.text()).toBe(SDK_BROWSER_JS);
    expect((await fetch(`${s.http}/sdk/demo-app.js`)).status).toBe(200);
    expect((await fetch(`${s.http}/demo/bad%20room`)).status).toBe(400);
  });

  for (const format of ["json", "protobuf"] as const) {
    test(`${format}: join, presence both ways, chat and position with a Bun-side client, leave`, async () => {
      const room = `browser-${format}`;
      const browserId = `chromium-${format}`;
      const bunId = `bun-${format}`;
      const opened = await openInPage(tab, { url: s.ws, room, clientId: browserId, format });
      expect(opened).toMatchObject({ clientId: browserId, room });
      expect(opened.userAgent).toContain("Chrome/");

      // A Bun-side client in the other format joins: it sees the browser in the world state,
      // the browser sees it arrive.
      const other = format === "json" ? "protobuf" : "json";
      const bun = await sdk(s.ws, room, { clientId: bunId, displayName: "Bun", format: other });
      expect(bun.client.players.get(browserId)).toMatchObject({ client_id: browserId, display_name: "Chromium" });
      await tab.waitForFunction((id) => (window as any).log.presence.some((p: any) => p.kind === "join" && p.client_id === id), bunId, { timeout: 5000 });
      expect((await pageLog(tab)).presence).toEqual([
        { kind: "join", client_id: browserId, display_name: "Chromium", source: "snapshot", self: true },
        { kind: "join", client_id: bunId, display_name: "Bun", source: "server", self: false },
      ]);
      expect((await pageLog(tab)).players.sort()).toEqual([browserId, bunId].sort());

      // Chat both ways (non-ASCII text survives either format), a position from the browser.
      const fromBrowser = `hello from Chromium (${format}) – ünïcödé ✓`;
      await tab.evaluate((text) => (window as any).client.sendChat(text), fromBrowser);
      const [chat] = await bun.nOf(MessageType.CHAT_MESSAGE, 1);
      expect(chat!.chat_message).toMatchObject({ from_client_id: browserId, message: fromBrowser });
      bun.client.sendChat(`hello from Bun (${other})`);
      await tab.waitForFunction(() => (window as any).log.chats.length >= 1, undefined, { timeout: 5000 });
      expect((await pageLog(tab)).chats).toEqual([{ from: bunId, message: `hello from Bun (${other})` }]);
      await tab.evaluate(() => (window as any).client.sendPosition({ x: 1.5, y: 2, z: -3 }, { x: 0, y: 0, z: 0, w: 1 }));
      const [pos] = await bun.nOf(MessageType.POSITION_UPDATE, 1);
      expect(pos!.position_update).toMatchObject({ entity_id: browserId, position: { x: 1.5, y: 2, z: -3 } });

      // The Bun side leaves: the browser sees it go.
      bun.client.close();
      await tab.waitForFunction((id) => (window as any).log.presence.some((p: any) => p.kind === "leave" && p.client_id === id), bunId, { timeout: 5000 });
      const log = await pageLog(tab);
      expect(log.players).toEqual([browserId]);
      // Every frame after the JSON hello came in the browser client's own format: join, chat
      // and leave (protobuf clients also get the hello again, as a binary Message).
      if (format === "json") expect(log.frames).toEqual({ text: 3, binary: 0 });
      else expect(log.frames).toEqual({ text: 0, binary: 4 });
      // The protobuf codec is fetched only once a client asks for protobuf (the first runtime's
      // json test runs before its protobuf test; later tabs may take it from the cache).
      if (runtime === RUNTIMES[0]) expect(page.requests.includes("/protobuf.js")).toBe(format === "protobuf");

      await tab.evaluate(() => (window as any).client.close());
      const stats = async () => (await fetch(`${s.http}/ws/${room}/stats`)).json() as Promise<{ connection_count: number }>;
      for (let i = 0; (await stats()).connection_count !== 0; i++) {
        expect(i, "the browser client to leave").toBeLessThan(200);
        await Bun.sleep(25);
      }
    });
  }
});
