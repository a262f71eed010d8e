/**
 * The live dashboard: ONE self-contained HTML page (inline CSS and script, no CDN, no fonts, no
 * images), so it is compiled into the single executable and the Node bundle as a string and
 * works offline. It polls the JSON snapshot ({@link MetricsSnapshot}) about once a second and
 * shows connections, rooms, message rates and fan-out latency (p50/p99 over the last 5 minutes).
 *
 * Opened as `/dashboard?token=…`, it sends `Authorization: Bearer …` on its fetches.
 * A `Content-Security-Policy` meta tag keeps it from loading or sending anything off-origin.
 *
 * Stable hooks for browser tests (each element has the same `id` and `data-testid`; numbers
 * also carry the raw value in `data-value`): `status` (`data-state` live/error/auth),
 * `uptime`, `active-connections`, `total-connections`, `connection-errors`, `rooms-total`,
 * `msgs-in-per-s`, `msgs-out-per-s`, `msgs-in-total`, `msgs-out-total`, `bytes-in-per-s`,
 * `bytes-out-per-s`, `latency-p50|p90|p99|max|avg|count`, `latency-chart`, `rate-chart`,
 * `rooms` (the table body: rows `data-testid="room-row"` with `data-room="<id>"` and cells
 * `room-id`, `room-connections`, `room-messages-in`, `room-messages-out`, `room-last-activity`;
 * the aggregate row is `rooms-other`), `last-update`.
 * @module
 */
import { DASHBOARD_SCRIPT } from "./dashboard-script.ts";
import type { MetricsSnapshot } from "./snapshot.ts";

/** Options of {@link dashboardHtml}. */
export interface DashboardOptions {
  /** Where the page fetches the JSON snapshot (same origin). @default "/metrics?format=json" */
  metricsUrl?: string;
  /** Poll interval (ms). @default 1000 */
  pollMs?: number;
  /** Page title and heading. @default "graphwiz-ws" */
  title?: string;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** JSON that is safe inside `<script>`: no `</script>`, no `<!--`, no line separators. */
const scriptJson = (v: unknown): string =>
  JSON.stringify(v).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");

const CSS = `
:root{color-scheme:dark;--bg:#0f1115;--card:#171a21;--line:#262b36;--text:#e6e8ee;--muted:#8b93a7;--p50:#4fc3f7;--p99:#ff8a65;--in:#81c784;--out:#ce93d8}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{display:flex;align-items:center;gap:12px;flex-wrap:wrap;padding:16px 24px;border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0;font-weight:600}
.muted{color:var(--muted)}
.pill{padding:2px 10px;border-radius:999px;font-size:12px;background:#333;color:var(--text)}
.pill[data-state=live]{background:#1b5e20;color:#c8e6c9}
.pill[data-state=error],.pill[data-state=auth]{background:#7f1d1d;color:#fecaca}
.spacer{flex:1}
main{padding:20px 24px;display:grid;gap:16px;grid-template-columns:repeat(4,minmax(0,1fr))}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;min-width:0}
.card h2{font-size:12px;font-weight:500;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:0 0 6px}
.big{font-size:30px;font-weight:600;font-variant-numeric:tabular-nums}
.sub{color:var(--muted);font-size:12px;font-variant-numeric:tabular-nums}
.wide{grid-column:1/-1}
.half{grid-column:span 2}
@media (max-width:960px){main{grid-template-columns:repeat(2,minmax(0,1fr));padding:16px}.half{grid-column:1/-1}.big{font-size:24px}}
canvas{width:100%;height:240px;display:block;margin-top:6px}
.legend{display:flex;gap:14px;font-size:12px;color:var(--muted)}
.legend i{display:inline-block;width:10px;height:3px;margin-right:5px;vertical-align:middle}
.lat{display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:6px;margin:4px 0 10px}
.lat b{display:block;font-size:18px;font-variant-numeric:tabular-nums}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{text-align:right;padding:6px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
th{color:var(--muted);font-weight:500;font-size:12px}
th:first-child,td.id{text-align:left}
td.id{max-width:360px;overflow:hidden;text-overflow:ellipsis;font-family:ui-monospace,Menlo,Consolas,monospace}
tr[data-testid=rooms-other] td{color:var(--muted);font-style:italic}
.scroll{overflow-x:auto}
footer{padding:0 24px 20px;color:var(--muted);font-size:12px}
`;

const stat = (id: string, label: string, sub = "") =>
  `<section class="card"><h2>${label}</h2><div class="big" id="${id}" data-testid="${id}">–</div><div class="sub">${sub}</div></section>`;
const num = (id: string) => `<span id="${id}" data-testid="${id}">–</span>`;

/** The page. The default page is built once and reused. */
export function dashboardHtml(opts: DashboardOptions = {}): string {
  const isDefault = opts.metricsUrl === undefined && opts.pollMs === undefined && opts.title === undefined;
  if (isDefault && cached) return cached;
  const title = escapeHtml(opts.title ?? "graphwiz-ws");
  const config = scriptJson({ metricsUrl: opts.metricsUrl ?? "/metrics?format=json", pollMs: Math.max(100, opts.pollMs ?? 1000) });
  const lat = (k: string, label: string) => `<div><span class="sub">${label}</span><b id="latency-${k}" data-testid="latency-${k}">–</b></div>`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<title>${title} · dashboard</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${title}</h1>
<span class="pill" id="status" data-testid="status" data-state="connecting">connecting…</span>
<span class="muted" id="server" data-testid="server"></span>
<span class="spacer"></span>
<span class="muted">uptime ${num("uptime")}</span>
</header>
<main>
${stat("active-connections", "Active connections", `${num("total-connections")} total · ${num("connection-errors")} errors`)}
${stat("rooms-total", "Rooms", "on this instance")}
${stat("msgs-in-per-s", "Messages in / s", `${num("msgs-in-total")} total · ${num("bytes-in-per-s")}`)}
${stat("msgs-out-per-s", "Messages out / s", `${num("msgs-out-total")} total · ${num("bytes-out-per-s")}`)}
<section class="card half">
<h2>Fan-out latency · ${num("latency-count")} broadcasts since start</h2>
<div class="lat">${lat("p50", "p50")}${lat("p90", "p90")}${lat("p99", "p99")}${lat("max", "max")}${lat("avg", "avg")}</div>
<div class="legend"><span><i style="background:var(--p50)"></i>p50</span><span><i style="background:var(--p99)"></i>p99</span><span>last 5 minutes</span></div>
<canvas id="latency-chart" data-testid="latency-chart" aria-label="fan-out latency p50 and p99 over the last 5 minutes"></canvas>
</section>
<section class="card half">
<h2>Messages per second</h2>
<div class="legend"><span><i style="background:var(--in)"></i>in</span><span><i style="background:var(--out)"></i>out</span><span>since this page opened</span></div>
<canvas id="rate-chart" data-testid="rate-chart" aria-label="messages in and out per second"></canvas>
</section>
<section class="card wide">
<h2>Rooms (busiest first)</h2>
<div class="scroll"><table>
<thead><tr><th>Room</th><th>Connections</th><th>Msgs in</th><th>Msgs out</th><th>Last activity</th></tr></thead>
<tbody id="rooms" data-testid="rooms"></tbody>
</table></div>
</section>
</main>
<footer>Polling every ${Math.round(Math.max(100, opts.pollMs ?? 1000))} ms · last update ${num("last-update")}</footer>
<script>${DASHBOARD_SCRIPT.replace("__CONFIG__", () => config)}</script>
</body>
</html>
`;
  if (isDefault) cached = html;
  return html;
}
let cached: string | undefined;
