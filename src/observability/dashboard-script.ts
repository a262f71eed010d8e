/**
 * The dashboard's browser script, as a string (plain ES2017, no libraries, no template literals
 * so it can live inside this one). It polls the JSON snapshot, fills the elements by id, and
 * draws two charts on `<canvas>` by hand.
 *
 * The script is ASCII only (non-ASCII text is written as `\uXXXX` escapes): Bun's transpiler
 * rewrites non-ASCII characters inside `String.raw`, which would make the page differ between
 * `bun` and the esbuild bundle.
 *
 * Safety: every value reaches the page through `textContent` or `setAttribute`, never
 * `innerHTML`, so a room id like `<img src=x onerror=…>` shows as text (a test checks that the
 * script contains no HTML-parsing sink).
 * @module
 */

/** The script body; `__CONFIG__` is replaced by a JSON object `{ metricsUrl, pollMs }`. */
export const DASHBOARD_SCRIPT = String.raw`(function () {
  "use strict";
  var cfg = __CONFIG__;
  var token = new URLSearchParams(location.search).get("token");
  var $ = function (id) { return document.getElementById(id); };
  var SPAN_MS = 5 * 60 * 1000;
  var rates = [];
  var last = null;
  var polls = 0;

  function put(id, text, raw) {
    var el = $(id);
    if (!el) return;
    el.textContent = text;
    if (raw !== undefined) el.setAttribute("data-value", String(raw));
  }
  function int(n) { return String(Math.round(n)); }
  function rate(n) { return n >= 100 ? n.toFixed(0) : n.toFixed(1); }
  function bytes(n) {
    var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(Math.round(n))) + " " + u[i];
  }
  function ms(v) { return v == null ? "\u2013" : (v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(0)) + " ms"; }
  function ago(s) {
    if (s < 1) return "now";
    if (s < 60) return Math.floor(s) + "s ago";
    if (s < 3600) return Math.floor(s / 60) + "m ago";
    return Math.floor(s / 3600) + "h ago";
  }
  function uptime(s) {
    var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + Math.floor(s % 60) + "s";
  }
  function status(state, text) {
    var el = $("status");
    el.textContent = text;
    el.setAttribute("data-state", state);
  }
  function cell(tr, testid, text, raw) {
    var td = document.createElement("td");
    td.textContent = text;
    td.setAttribute("data-testid", testid);
    if (raw !== undefined) td.setAttribute("data-value", String(raw));
    tr.appendChild(td);
    return td;
  }
  function roomRow(r, now, testid, label) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-testid", testid);
    if (testid === "room-row") tr.setAttribute("data-room", r.id);
    cell(tr, "room-id", label).className = "id";
    cell(tr, "room-connections", int(r.connections), r.connections);
    cell(tr, "room-messages-in", int(r.messages_in), r.messages_in);
    cell(tr, "room-messages-out", int(r.messages_out), r.messages_out);
    cell(tr, "room-last-activity", ago((now - Date.parse(r.last_activity)) / 1000));
    return tr;
  }

  function render(s) {
    var now = Date.parse(s.time);
    put("uptime", uptime(s.uptime_s), s.uptime_s);
    put("server", [s.version, s.runtime].filter(Boolean).join(" \u00b7 "));
    put("active-connections", int(s.connections.active), s.connections.active);
    put("total-connections", int(s.connections.total), s.connections.total);
    put("connection-errors", int(s.connections.errors), s.connections.errors);
    put("rooms-total", int(s.rooms_total), s.rooms_total);
    put("msgs-in-per-s", rate(s.messages.in_per_s), s.messages.in_per_s);
    put("msgs-out-per-s", rate(s.messages.out_per_s), s.messages.out_per_s);
    put("msgs-in-total", int(s.messages.in), s.messages.in);
    put("msgs-out-total", int(s.messages.out), s.messages.out);
    put("bytes-in-per-s", bytes(s.bytes.in_per_s) + "/s", s.bytes.in_per_s);
    put("bytes-out-per-s", bytes(s.bytes.out_per_s) + "/s", s.bytes.out_per_s);
    var f = s.latency.fanout_ms;
    ["p50", "p90", "p99", "max", "avg"].forEach(function (k) { put("latency-" + k, ms(f[k]), f[k] == null ? "" : f[k]); });
    put("latency-count", int(f.count), f.count);

    var frag = document.createDocumentFragment();
    s.rooms.forEach(function (r) { frag.appendChild(roomRow(r, now, "room-row", r.id)); });
    if (s.rooms_other) frag.appendChild(roomRow(s.rooms_other, now, "rooms-other", s.rooms_other.rooms + " other rooms"));
    if (!s.rooms.length && !s.rooms_other) {
      var tr = document.createElement("tr");
      cell(tr, "rooms-empty", "No rooms yet").colSpan = 5;
      frag.appendChild(tr);
    }
    $("rooms").replaceChildren(frag);

    // The first rates a server reports have no history behind them (0): skip them.
    if (polls++ > 0) rates.push({ t: now, a: s.messages.in_per_s, b: s.messages.out_per_s });
    while (rates.length && rates[0].t < now - SPAN_MS) rates.shift();
    last = s;
    draw();
    put("last-update", new Date().toLocaleTimeString());
  }

  function draw() {
    var now = last ? Date.parse(last.time) : Date.now();
    var h = last ? last.latency.history : [];
    chart($("latency-chart"), now, [
      { color: "#4fc3f7", pts: h.map(function (p) { return [p.t, p.p50]; }) },
      { color: "#ff8a65", pts: h.map(function (p) { return [p.t, p.p99]; }) },
    ], " ms");
    chart($("rate-chart"), now, [
      { color: "#81c784", pts: rates.map(function (p) { return [p.t, p.a]; }) },
      { color: "#ce93d8", pts: rates.map(function (p) { return [p.t, p.b]; }) },
    ], "/s");
  }

  /** A round axis top (1, 2 or 5 x 10^k) and a step giving 4-5 grid lines. */
  function axis(v) {
    if (!(v > 0)) return { top: 1, step: 0.2 };
    var e = Math.pow(10, Math.floor(Math.log10(v))), m = v / e;
    var top = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * e;
    return { top: top, step: top / (m > 1 && m <= 2 ? 4 : 5) };
  }

  function chart(canvas, now, series, unit) {
    if (!canvas || !canvas.getContext) return;
    var dpr = window.devicePixelRatio || 1, w = canvas.clientWidth || 600, hgt = canvas.clientHeight || 200;
    if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
    if (canvas.height !== Math.round(hgt * dpr)) canvas.height = Math.round(hgt * dpr);
    var c = canvas.getContext("2d");
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, w, hgt);
    var L = 64, R = 10, T = 10, B = 22, pw = w - L - R, ph = hgt - T - B;
    var max = 0, points = 0;
    series.forEach(function (s) {
      s.pts.forEach(function (p) {
        if (p[1] == null || p[0] < now - SPAN_MS) return;
        points++;
        if (p[1] > max) max = p[1];
      });
    });
    var ax = axis(max * 1.1), top = ax.top;
    var dec = Math.max(0, -Math.floor(Math.log10(ax.step) + 1e-9));
    var x = function (t) { return L + pw * (1 - (now - t) / SPAN_MS); };
    var y = function (v) { return T + ph * (1 - v / top); };
    c.font = "11px system-ui, sans-serif";
    c.lineWidth = 1;
    c.strokeStyle = "#262b36";
    c.fillStyle = "#8b93a7";
    c.textAlign = "right";
    c.textBaseline = "middle";
    for (var i = 0; i * ax.step <= top * 1.0001; i++) {
      var v = i * ax.step, yy = Math.round(y(v)) + 0.5;
      c.beginPath(); c.moveTo(L, yy); c.lineTo(w - R, yy); c.stroke();
      c.fillText(v.toFixed(dec) + unit, L - 6, yy);
    }
    c.textAlign = "center";
    c.textBaseline = "top";
    for (var m = 5; m >= 0; m--) c.fillText(m ? "-" + m + "m" : "now", x(now - m * 60000), hgt - B + 6);
    if (!points) {
      c.textBaseline = "middle";
      c.fillText(last ? "no data yet" : "waiting for the server\u2026", L + pw / 2, T + ph / 2);
      return;
    }
    c.lineWidth = 2;
    c.lineJoin = "round";
    series.forEach(function (s) {
      c.strokeStyle = s.color;
      c.beginPath();
      var pen = false;
      s.pts.forEach(function (p) {
        // null is a slot without data: lift the pen so the line shows a gap.
        if (p[1] == null || p[0] < now - SPAN_MS) { pen = false; return; }
        if (pen) c.lineTo(x(p[0]), y(p[1])); else c.moveTo(x(p[0]), y(p[1]));
        pen = true;
      });
      c.stroke();
    });
  }

  function poll() {
    if (document.hidden) { setTimeout(poll, cfg.pollMs); return; }
    var headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    fetch(cfg.metricsUrl, { headers: headers, cache: "no-store" })
      .then(function (res) {
        if (res.status === 401 || res.status === 403) throw { state: "auth", text: "unauthorized \u2013 open with ?token=\u2026" };
        if (!res.ok) throw { state: "error", text: "HTTP " + res.status };
        return res.json();
      })
      .then(function (s) { render(s); status("live", "live"); })
      .catch(function (e) { status(e && e.state ? e.state : "error", e && e.text ? e.text : "offline"); })
      .then(function () { setTimeout(poll, cfg.pollMs); });
  }

  window.addEventListener("resize", draw);
  draw();
  poll();
})();`;
