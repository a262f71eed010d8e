/**
 * [observability] a real browser client: the client SDK, bundled for the browser with esbuild,
 * runs inside Chromium (its page on its own origin) and talks to the real server on every
 * runtime, in JSON and in protobuf, with a Bun-side SDK client in the other format.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { sdk } from "../helpers/sdk.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { launch, servePage } from "./browser.ts";

let browser: Browser;
let page: { url: string; stop(): void };
beforeAll(async () => {
  [browser, page] = await Promise.all([launch(), servePage()]);
});
afterAll(async () => {
  await browser?.close();
  page?.stop();
});

/** What the in-page client recorded (see `openInPage`). */
interface PageLog {
  presence: { type: number; client_id: string; display_name: string | null }[];
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
    c.on("presence", (ev: any, msg: any) => log.presence.push({ type: msg.type, client_id: ev.client_id, display_name: ev.data?.display_name ?? null }));
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
      await tab.waitForFunction((id) => (window as any).log.presence.some((p: any) => p.type === 40 && p.client_id === id), bunId, { timeout: 5000 });
      expect((await pageLog(tab)).presence).toEqual([{ type: MessageType.PRESENCE_JOIN, client_id: bunId, display_name: "Bun" }]);
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
      await tab.waitForFunction((id) => (window as any).log.presence.some((p: any) => p.type === 41 && p.client_id === id), bunId, { timeout: 5000 });
      const log = await pageLog(tab);
      expect(log.players).toEqual([browserId]);
      // Every frame after the JSON hello came in the browser client's own format: join, chat
      // and leave (protobuf clients also get the hello again, as a binary Message).
      if (format === "json") expect(log.frames).toEqual({ text: 3, binary: 0 });
      else expect(log.frames).toEqual({ text: 0, binary: 4 });

      await tab.evaluate(() => (window as any).client.close());
      const stats = async () => (await fetch(`${s.http}/ws/${room}/stats`)).json() as Promise<{ connection_count: number }>;
      for (let i = 0; (await stats()).connection_count !== 0; i++) {
        expect(i, "the browser client to leave").toBeLessThan(200);
        await Bun.sleep(25);
      }
    });
  }
});
