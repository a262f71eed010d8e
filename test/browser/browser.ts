/**
 * Browser test helpers: Debian's Chromium driven by playwright-core, and the client SDK bundled
 * for the browser with esbuild. Needs `/usr/bin/chromium` (CI: `apt-get install -y chromium`);
 * a missing browser fails the test with that command in the message, it never skips.
 */
import { existsSync } from "node:fs";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { ROOT } from "../helpers/server.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Launches headless Chromium. */
export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found; install it with: apt-get install -y chromium fonts-dejavu-core`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

let sdkBundle: Promise<string> | undefined;
/** `src/client/index.ts` bundled for browsers (ES module), built once per run. */
export function sdkForBrowser(): Promise<string> {
  return (sdkBundle ??= build({
    entryPoints: [`${ROOT}/src/client/index.ts`],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    logLevel: "warning",
  }).then((r) => r.outputFiles[0]!.text));
}

/**
 * Serves a page on 127.0.0.1 (its own origin, not the server's) that imports the SDK as
 * `/sdk.js` and exposes it as `window.sdk`; `window.sdkReady` turns true once loaded.
 */
export async function servePage(): Promise<{ url: string; stop(): void }> {
  const js = await sdkForBrowser();
  const html = `<!doctype html><meta charset="utf-8"><title>SDK in Chromium</title>
<script type="module">import * as sdk from "/sdk.js"; window.sdk = sdk; window.sdkReady = true;</script>`;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/sdk.js") return new Response(js, { headers: { "Content-Type": "text/javascript; charset=utf-8" } });
      if (path === "/") return new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
      return new Response("not found", { status: 404 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/`, stop: () => server.stop(true) };
}
