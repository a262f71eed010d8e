/**
 * The live demo page's script (browser code). It uses nothing but the SDK's browser bundle:
 * client/build.ts compiles this file with the `../client/index.ts` import left as
 * `/sdk/graphwiz-ws-client.js`, the bundle the server serves. A top-down view of the room:
 * avatars are dots with names, gliding to each position update; entities are squares in their
 * `color`; chat shows in a log and as bubbles. Click the map to walk there, drop a box, chat.
 *
 * Test hooks: `window.demo = { client, ready }`; `data-testid` on status, counts, the player
 * list (`player`, with `data-client-id`), the chat log (`chat-line`) and the map canvas.
 * @module
 */
import { GraphwizClient, type PoseChange, type Vector3 } from "../client/index.ts";

/** A point on the map (every coordinate known). */
type P = { x: number; y: number; z: number };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const room = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() ?? "demo");
const params = new URLSearchParams(location.search);
const name = params.get("name") ?? `Guest-${Math.random().toString(36).slice(2, 6)}`;
const client = new GraphwizClient({
  url: location.origin.replace(/^http/, "ws"),
  room,
  displayName: name,
  ...(params.get("token") ? { token: params.get("token")! } : {}),
});
(window as unknown as { demo: unknown }).demo = { client, ready: false };

/** What is drawn for each avatar: where it is shown (gliding) and where it is going. */
interface Dot { shown: P; target: P; bubble?: { text: string; until: number } }
const dots = new Map<string, Dot>();
const HUES = (id: string) => [...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 360;
const pos = (v?: Vector3): P => ({ x: v?.x ?? 0, y: v?.y ?? 0, z: v?.z ?? 0 });
const dotOf = (id: string) => {
  let d = dots.get(id);
  if (!d) dots.set(id, (d = { shown: pos(client.players.get(id)?.position), target: pos(client.players.get(id)?.position) }));
  return d;
};

// ---- the side panel -------------------------------------------------------------------------
function text(tag: string, content: string, attrs: Record<string, string> = {}): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = content;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}
function renderPanel(): void {
  $("player-count").textContent = String(client.players.size);
  $("entity-count").textContent = String(client.entities.size);
  const list = $("players");
  list.replaceChildren(...[...client.players.values()].map((p) => {
    const li = text("li", `${p.display_name || p.client_id}${p.client_id === client.clientId ? " (you)" : ""}`, { "data-testid": "player", "data-client-id": p.client_id });
    li.style.setProperty("--hue", String(HUES(p.client_id)));
    return li;
  }));
}
/** A chat line, or (no `who`) a line about the room, such as a join. */
function addChatLine(who: string | undefined, message: string): void {
  const log = $("chat-log");
  log.append(who === undefined ? text("li", message, { "data-testid": "room-line", class: "muted" }) : text("li", `${who}: ${message}`, { "data-testid": "chat-line" }));
  while (log.children.length > 60) log.firstElementChild!.remove();
  log.scrollTop = log.scrollHeight;
}
const nameOf = (id: string) => client.players.get(id)?.display_name || id;
function setStatus(state: string): void {
  $("status").textContent = state;
  $("status").dataset.state = state;
}

// ---- SDK events -----------------------------------------------------------------------------
client.on("state", setStatus);
client.on("presence", (ev) => {
  if (ev.kind === "leave") dots.delete(ev.client_id);
  else dotOf(ev.client_id).target = pos(ev.player.position ?? dotOf(ev.client_id).target);
  if (ev.source === "server" && ev.kind !== "update") addChatLine(undefined, `${ev.player.display_name || ev.client_id} ${ev.kind === "join" ? "joined" : "left"}`);
  renderPanel();
});
client.on("position", (ev: PoseChange) => {
  if (ev.target === "player" && ev.position) dotOf(ev.entity_id).target = pos(ev.position);
});
client.on("entity", renderPanel);
client.on("chat", (chat) => {
  addChatLine(nameOf(chat.from_client_id), chat.message);
  dotOf(chat.from_client_id).bubble = { text: chat.message, until: performance.now() + 5000 };
});
client.on("error", (err) => addChatLine("server", `${err.code}: ${err.message}`));

// ---- walking: click the map (or WASD / arrow keys) ------------------------------------------
const canvas = $<HTMLCanvasElement>("map");
let goal: P | undefined;
const me = () => (client.clientId ? dots.get(client.clientId) : undefined);
let view = { scale: 20, cx: 0, cz: 0 };
canvas.addEventListener("click", (e) => {
  const r = canvas.getBoundingClientRect();
  goal = { x: (e.clientX - r.left - r.width / 2) / view.scale + view.cx, y: 0, z: (e.clientY - r.top - r.height / 2) / view.scale + view.cz };
});
const KEYS: Record<string, [number, number]> = { ArrowUp: [0, -1], KeyW: [0, -1], ArrowDown: [0, 1], KeyS: [0, 1], ArrowLeft: [-1, 0], KeyA: [-1, 0], ArrowRight: [1, 0], KeyD: [1, 0] };
addEventListener("keydown", (e: KeyboardEvent) => {
  const k = KEYS[e.code];
  const self = me();
  if (!k || !self || document.activeElement === $("chat-input")) return;
  goal = { x: self.target.x + k[0] * 1.5, y: 0, z: self.target.z + k[1] * 1.5 };
});
setInterval(() => {
  const self = me();
  if (!goal || !self || client.state !== "open") return;
  const dx = goal.x - self.target.x, dz = goal.z - self.target.z, d = Math.hypot(dx, dz), step = 0.3; // 3 m/s at 10 Hz
  const next: P = d <= step ? goal : { x: self.target.x + (dx / d) * step, y: 0, z: self.target.z + (dz / d) * step };
  if (d <= step) goal = undefined;
  const yaw = Math.atan2(dx, dz);
  client.sendPosition(next, { x: 0, y: Math.sin(yaw / 2), z: 0, w: Math.cos(yaw / 2) });
}, 100);

$("chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("chat-input");
  if (!input.value.trim()) return;
  client.sendChat(input.value.trim());
  addChatLine(`${name} (you)`, input.value.trim());
  if (me()) me()!.bubble = { text: input.value.trim(), until: performance.now() + 5000 };
  input.value = "";
});
$("drop-box").addEventListener("click", () => {
  const at: P = me()?.target ?? { x: 0, y: 0, z: 0 };
  const color = `hsl(${Math.floor(Math.random() * 360)} 70% 55%)`;
  client.spawnEntity({ entity_id: `box-${client.clientId}-${Date.now().toString(36)}`, template_id: "box", components: { color }, position: { x: at.x + 0.8, y: 0, z: at.z } });
});

// ---- drawing ------------------------------------------------------------------------------
function draw(): void {
  const dpr = devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
  if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
  const g = canvas.getContext("2d")!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  // Fit everything (at least ±10 m) into view.
  let extent = 10;
  for (const d of dots.values()) extent = Math.max(extent, Math.abs(d.target.x) + 1, Math.abs(d.target.z) + 1);
  for (const e of client.entities.values()) extent = Math.max(extent, Math.abs(pos(e.position).x) + 1, Math.abs(pos(e.position).z) + 1);
  view = { scale: Math.min(w, h) / (2 * extent), cx: 0, cz: 0 };
  const sx = (x: number) => w / 2 + (x - view.cx) * view.scale, sz = (z: number) => h / 2 + (z - view.cz) * view.scale;
  g.strokeStyle = "#232a36";
  g.lineWidth = 1;
  for (let m = -Math.ceil(extent); m <= extent; m += 2) {
    g.beginPath(); g.moveTo(sx(m), 0); g.lineTo(sx(m), h); g.moveTo(0, sz(m)); g.lineTo(w, sz(m)); g.stroke();
  }
  g.font = "12px system-ui, sans-serif";
  g.textAlign = "center";
  for (const e of client.entities.values()) {
    const s = Math.max(10, view.scale * 0.8), x = sx(pos(e.position).x), z = sz(pos(e.position).z);
    g.fillStyle = e.components.color ?? "#9e9e9e";
    g.fillRect(x - s / 2, z - s / 2, s, s);
    g.fillStyle = "#8b93a7";
    g.fillText(e.template_id || e.id, x, z + s / 2 + 13);
  }
  const now = performance.now();
  for (const [id, d] of dots) {
    d.shown.x += (d.target.x - d.shown.x) * 0.2;
    d.shown.z += (d.target.z - d.shown.z) * 0.2;
    const x = sx(d.shown.x), z = sz(d.shown.z);
    g.beginPath();
    g.arc(x, z, 8, 0, Math.PI * 2);
    g.fillStyle = `hsl(${HUES(id)} 75% 60%)`;
    g.fill();
    if (id === client.clientId) (g.strokeStyle = "#fff", (g.lineWidth = 2), g.stroke());
    g.fillStyle = "#e6e8ee";
    g.fillText(nameOf(id), x, z + 22);
    if (d.bubble && d.bubble.until > now) {
      const t = d.bubble.text.length > 40 ? `${d.bubble.text.slice(0, 39)}…` : d.bubble.text;
      const bw = g.measureText(t).width + 12;
      g.fillStyle = "rgba(255,255,255,.92)";
      g.fillRect(x - bw / 2, z - 34, bw, 18);
      g.fillStyle = "#111";
      g.fillText(t, x, z - 21);
    }
  }
  requestAnimationFrame(draw);
}

$("room").textContent = room;
$("you").textContent = name;
requestAnimationFrame(draw);
client.connect().then(() => {
  for (const id of client.players.keys()) dotOf(id);
  renderPanel();
  (window as unknown as { demo: { ready: boolean } }).demo.ready = true;
}, (e: Error) => setStatus(`failed: ${e.message}`));
