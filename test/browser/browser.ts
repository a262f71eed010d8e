/**
 * Browser test helpers: Debian's Chromium driven by playwright-core, and the client SDK's
 * browser build (client/build.ts). Needs `/usr/bin/chromium` (CI: `apt-get install -y chromium`);
 * a missing browser fails the test with that command in the message, it never skips.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { buildJs } from "../../client/build.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Launches headless Chromium. */
export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found; install it with: apt-get install -y chromium fonts-dejavu-core`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

let sdkBundle: Promise<Record<string, string>> | undefined;
/** The SDK's browser build (`browser.js`, and `protobuf.js` it loads on demand), as client/build.ts makes it; once per run. */
export function sdkForBrowser(): Promise<Record<string, string>> {
  return (sdkBundle ??= buildJs(["browser.js", "protobuf.js"]));
}

/** A static server on 127.0.0.1 (its own origin): `route` answers a path or not (404); `requests` lists every path asked for. */
export function serveStatic(route: (path: string) => Response | undefined): { url: string; requests: string[]; stop(): void } {
  const requests: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      requests.push(path);
      return route(path) ?? new Response("not found", { status: 404 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/`, requests, stop: () => server.stop(true) };
}

/**
 * Serves a page that imports the SDK as `/browser.js` (which loads `/protobuf.js` when asked
 * for protobuf) and exposes it as `window.sdk`; `window.sdkReady` turns true once loaded.
 */
export async function servePage(): Promise<{ url: string; requests: string[]; stop(): void }> {
  const js = await sdkForBrowser();
  const html = `<!doctype html><meta charset="utf-8"><title>SDK in Chromium</title>
<script type="module">import * as sdk from "/browser.js"; window.sdk = sdk; window.sdkReady = true;</script>`;
  return serveStatic((path) => {
    const file = js[path.slice(1)];
    if (file !== undefined) return new Response(file, { headers: { "Content-Type": "text/javascript; charset=utf-8" } });
    if (path === "/") return new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
  });
}
