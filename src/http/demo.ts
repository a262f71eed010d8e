/**
 * The live demo: `GET /demo/{room}` is a top-down view of a room that anyone can open in two
 * tabs and watch (avatars, chat, entities), built only on the SDK's browser bundle, which the
 * server serves itself at `GET /sdk/graphwiz-ws-client.js` (no CDN; compiled into every build as
 * a string, see client/build.ts). `npm run bots -- --room demo --n 10` keeps a room alive.
 * The page joins the room like any client, so with authentication on it needs `?token=`.
 * @module
 */
import type { Hono } from "hono";
import { DEMO_APP_JS, SDK_BROWSER_JS } from "./sdk-bundle.generated.ts";
import { checkRoomId } from "./validate.ts";

/** Where the server serves the SDK's browser bundle and the demo page's script. */
export const SDK_PATH = "/sdk/graphwiz-ws-client.js";
const DEMO_APP_PATH = "/sdk/demo-app.js";

const CSS = `
:root{color-scheme:dark;--bg:#0f1115;--card:#171a21;--line:#262b36;--text:#e6e8ee;--muted:#8b93a7}
*{box-sizing:border-box}
body{margin:0;height:100vh;display:grid;grid-template-columns:1fr 320px;grid-template-rows:auto 1fr;background:var(--bg);color:var(--text);font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{grid-column:1/-1;display:flex;gap:12px;align-items:center;padding:12px 20px;border-bottom:1px solid var(--line)}
h1{font-size:17px;margin:0;font-weight:600}
.muted{color:var(--muted)}
.pill{padding:2px 10px;border-radius:999px;font-size:12px;background:#333}
.pill[data-state=open]{background:#1b5e20;color:#c8e6c9}
.pill[data-state=reconnecting],.pill[data-state=closed]{background:#7f1d1d;color:#fecaca}
canvas{width:100%;height:100%;display:block;cursor:crosshair;min-height:0}
aside{border-left:1px solid var(--line);display:flex;flex-direction:column;min-height:0;padding:12px 16px;gap:10px}
h2{font-size:12px;font-weight:500;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:4px 0}
ul{list-style:none;margin:0;padding:0}
#players li{padding:2px 0}
#players li::before{content:"";display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:8px;background:hsl(var(--hue) 75% 60%)}
#chat-log{flex:1;overflow-y:auto;min-height:80px;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px}
#chat-log li{padding:1px 0;word-break:break-word}
#chat-log li.muted{font-style:italic}
form{display:flex;gap:6px}
input,button{font:inherit;color:inherit;background:var(--card);border:1px solid var(--line);border-radius:6px;padding:6px 8px}
input{flex:1;min-width:0}
button{cursor:pointer}
`;

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** The page of one room (the script reads the room from the URL). */
export function demoHtml(room: string): string {
  const r = escapeHtml(room);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<title>${r} · graphwiz-ws demo</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>graphwiz-ws · <span id="room" data-testid="room">${r}</span></h1>
<span class="pill" id="status" data-testid="status" data-state="idle">idle</span>
<span class="muted">you are <b id="you" data-testid="you"></b> · click the map to walk (or WASD)</span>
</header>
<canvas id="map" data-testid="map" aria-label="top-down view of the room"></canvas>
<aside>
<h2>In the room · <span id="player-count" data-testid="player-count">0</span> people · <span id="entity-count" data-testid="entity-count">0</span> entities</h2>
<ul id="players" data-testid="players"></ul>
<button id="drop-box" data-testid="drop-box" type="button">Drop a box</button>
<h2>Chat</h2>
<ul id="chat-log" data-testid="chat-log"></ul>
<form id="chat-form"><input id="chat-input" data-testid="chat-input" placeholder="Say something" autocomplete="off" maxlength="500"><button type="submit">Send</button></form>
</aside>
<script type="module" src="${DEMO_APP_PATH}"></script>
</body>
</html>
`;
}

const js = (body: string) =>
  new Response(body, { headers: { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=300" } });

/** Adds `/demo`, `/demo/{room}`, the SDK bundle and the page's script to the app. */
export function mountDemo(app: Hono): void {
  app.get(SDK_PATH, () => js(SDK_BROWSER_JS));
  app.get(DEMO_APP_PATH, () => js(DEMO_APP_JS));
  app.get("/demo", (c) => c.redirect("/demo/demo"));
  app.get("/demo/:room", (c) => {
    const room = c.req.param("room");
    const bad = checkRoomId(room);
    if (bad) return c.json({ error: "bad_request", message: bad }, 400);
    return c.html(demoHtml(room));
  });
}
