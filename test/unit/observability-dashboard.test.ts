/** JSON snapshot, text report and the dashboard page (its script run against a tiny fake DOM). */
import { describe, expect, test } from "bun:test";
import { dashboardHtml } from "../../src/observability/dashboard.ts";
import { DASHBOARD_SCRIPT } from "../../src/observability/dashboard-script.ts";
import { LatencyHistogram } from "../../src/observability/histogram.ts";
import { RollingLatency } from "../../src/observability/rolling.ts";
import type { RoomInput } from "../../src/observability/rooms.ts";
import { buildReport, buildSnapshot, type MetricsInput } from "../../src/observability/snapshot.ts";

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const HOSTILE = `<img src=x onerror="alert(1)">'&"`;
const room = (id: string, n: number): RoomInput => ({ id, connections: n, messagesIn: n * 10, messagesOut: n * 20, bytesIn: n * 100, bytesOut: n * 200, lastActivity: NOW - 3000 });

function input(over: Partial<MetricsInput> = {}): MetricsInput {
  const fanout = new LatencyHistogram();
  for (let i = 1; i <= 100; i++) fanout.record(i / 10);
  const rolling = new RollingLatency({ slotMs: 1000, slots: 60 });
  rolling.record(0.5, NOW - 2500);
  rolling.record(2, NOW - 1500);
  return {
    now: NOW,
    startedAt: NOW - 12_345,
    connections: { active: 7, total: 30, errors: 1 },
    messages: { in: 500, out: 2500 },
    bytes: { in: 4096, out: 20480 },
    rates: { messagesIn: 12.345, messagesOut: 61.2, bytesIn: 1024.04, bytesOut: 2048 },
    rooms: [room("lobby", 5), room(HOSTILE, 2), room("quiet", 0)],
    errorsByCode: new Map([["RATE_LIMITED", 3]]),
    fanout,
    history: rolling.history(NOW),
    version: "0.1.0",
    runtime: "bun",
    ...over,
  };
}

describe("buildSnapshot", () => {
  test("shape and values", () => {
    const s = buildSnapshot(input());
    expect(s).toMatchObject({
      time: new Date(NOW).toISOString(),
      uptime_s: 12.3,
      version: "0.1.0",
      runtime: "bun",
      connections: { active: 7, total: 30, errors: 1 },
      messages: { in: 500, out: 2500, in_per_s: 12.35, out_per_s: 61.2 },
      bytes: { in: 4096, out: 20480, in_per_s: 1024, out_per_s: 2048 },
      rooms_total: 3,
      rooms_other: null,
      errors_by_code: { RATE_LIMITED: 3 },
    });
    expect(s.rooms.map((r) => r.id)).toEqual(["lobby", HOSTILE, "quiet"]);
    expect(s.rooms[0]).toEqual({ id: "lobby", connections: 5, messages_in: 50, messages_out: 100, bytes_in: 500, bytes_out: 1000, last_activity: new Date(NOW - 3000).toISOString() });
    const f = s.latency.fanout_ms;
    expect(f.count).toBe(100);
    expect(f.avg).toBe(5.05);
    expect(f.max).toBe(10);
    expect(Math.abs(f.p50! - 5) / 5).toBeLessThan(0.0905);
    expect(Math.abs(f.p99! - 9.9) / 9.9).toBeLessThan(0.0905);
    expect(s.latency.history.map((p) => [p.t - NOW, p.count, p.p99])).toEqual([[-3000, 1, 0.5], [-2000, 1, 2], [-1000, 0, null]]);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  test("rooms are capped: the busiest listed, the rest summed", () => {
    const rooms = Array.from({ length: 30 }, (_, i) => room(`r${i}`, i));
    const s = buildSnapshot(input({ rooms }), { maxRooms: 10 });
    expect(s.rooms.length).toBe(10);
    expect(s.rooms[0]!.id).toBe("r29");
    expect(s.rooms_total).toBe(30);
    expect(s.rooms_other).toMatchObject({ rooms: 20, connections: (19 * 20) / 2, messages_in: ((19 * 20) / 2) * 10 });
  });

  test("no latency data yet: nulls, not zeros", () => {
    const s = buildSnapshot(input({ fanout: new LatencyHistogram(), history: undefined, rates: undefined }));
    expect(s.latency.fanout_ms).toEqual({ count: 0, avg: null, p50: null, p90: null, p99: null, p999: null, max: null });
    expect(s.latency.history).toEqual([]);
    expect(s.messages.in_per_s).toBe(0);
    expect(buildSnapshot(input({ fanout: undefined })).latency.fanout_ms.p50).toBeNull();
  });
});

describe("buildReport", () => {
  test("keeps the seed's first lines exactly and adds latency", () => {
    const lines = buildReport(input()).split("\n");
    expect(lines.slice(0, 3)).toEqual(["=== Performance Report ===", "Uptime: 12.3s", "Connections: 7 active / 30 total (1 errors)"]);
    expect(lines[3]).toBe("Messages: 500 received / 2500 sent (12.35/s in, 61.20/s out)");
    expect(lines[4]).toBe("Bytes: 4096 received / 20480 sent");
    expect(lines[5]).toBe("Rooms: 3 active");
    expect(lines[6]).toMatch(/^Latency: avg 5\.050ms, p50 \d+\.\d{3}ms, p99 \d+\.\d{3}ms$/);
    expect(lines.length).toBe(7);
  });

  test("without rates or samples", () => {
    const r = buildReport(input({ rates: undefined, fanout: undefined }));
    expect(r).toContain("\nMessages: 500 received / 2500 sent\n");
    expect(r.endsWith("\nLatency: no samples")).toBe(true);
  });
});

describe("dashboard page", () => {
  const html = dashboardHtml();

  test("self-contained: no external URL, stylesheet, script src, font or import", () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<link\b|\bsrc\s*=|@import|url\(|\/\/cdn/i);
    expect(html).toContain("connect-src 'self'");
    expect(html.match(/<script>/g)!.length).toBe(1);
  });

  test("has the stable test ids", () => {
    for (const id of ["active-connections", "total-connections", "rooms-total", "msgs-in-per-s", "msgs-out-per-s", "latency-p50", "latency-p99", "latency-chart", "rate-chart", "rooms", "status"]) {
      expect(html).toContain(`data-testid="${id}"`);
    }
  });

  test("the script never parses data as HTML, and is ASCII (same bytes under bun and esbuild)", () => {
    expect(DASHBOARD_SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    expect(DASHBOARD_SCRIPT).toMatch(/^[\x00-\x7f]*$/);
  });

  test("options are escaped into the page", () => {
    const page = dashboardHtml({ title: "<b>x</b>", metricsUrl: "/m?x=</script><script>alert(1)//" });
    expect(page).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(page).not.toContain("<b>x</b>");
    expect(page.match(/<\/script>/g)!.length).toBe(1);
    expect(page).toContain('"/m?x=\\u003c/script>\\u003cscript>alert(1)//"');
  });

  test("runs: fills numbers, renders a hostile room id as text, sends the bearer token", async () => {
    const page = runPage("?token=s3cret", [{ status: 200, body: buildSnapshot(input()) }]);
    await page.flush();
    expect(page.requests).toEqual([{ url: "/metrics?format=json", auth: "Bearer s3cret" }]);
    expect(page.text("status")).toBe("live");
    expect(page.text("active-connections")).toBe("7");
    expect(page.el("active-connections").attrs.get("data-value")).toBe("7");
    expect(page.text("msgs-in-per-s")).toBe("12.3");
    expect(page.text("rooms-total")).toBe("3");
    expect(page.text("latency-max")).toBe("10.00 ms");
    const rows = page.el("rooms").children;
    expect(rows.map((r) => r.attrs.get("data-room"))).toEqual(["lobby", HOSTILE, "quiet"]);
    const hostileRow = rows[1]!;
    expect(hostileRow.children[0]!.text).toBe(HOSTILE);
    expect(hostileRow.children.map((c) => c.attrs.get("data-testid"))).toEqual(["room-id", "room-connections", "room-messages-in", "room-messages-out", "room-last-activity"]);
    expect(hostileRow.children[4]!.text).toBe("3s ago");
    expect(page.created.filter((t) => t !== "tr" && t !== "td")).toEqual([]);
    // Both latency series were drawn (their colours are only used when there is data).
    expect(page.styles).toContain("#4fc3f7");
    expect(page.styles).toContain("#ff8a65");
  });

  test("no token: no Authorization header; 401 shows 'unauthorized' and keeps polling", async () => {
    const page = runPage("", [{ status: 401, body: {} }]);
    await page.flush();
    expect(page.requests).toEqual([{ url: "/metrics?format=json", auth: undefined }]);
    expect(page.el("status").attrs.get("data-state")).toBe("auth");
    expect(page.timers.length).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// A fake DOM just big enough for the dashboard script. `innerHTML` throws: the script must not
// use it. Canvas contexts accept any call and record the stroke colours set.

class FakeEl {
  children: FakeEl[] = [];
  attrs = new Map<string, string>();
  #text = "";
  className = "";
  colSpan = 1;
  width = 0;
  height = 0;
  clientWidth = 600;
  clientHeight = 200;
  constructor(readonly tag: string, private readonly page?: { styles: string[] }) {}
  get text(): string {
    return this.children.length ? this.children.map((c) => c.text).join("") : this.#text;
  }
  set textContent(v: string) {
    this.children = [];
    this.#text = String(v);
  }
  get textContent(): string {
    return this.text;
  }
  set innerHTML(_v: string) {
    throw new Error("innerHTML used");
  }
  setAttribute(k: string, v: string) {
    this.attrs.set(k, String(v));
  }
  getAttribute(k: string) {
    return this.attrs.get(k) ?? null;
  }
  appendChild(c: FakeEl) {
    this.children.push(...(c.tag === "#fragment" ? c.children : [c]));
    return c;
  }
  replaceChildren(...nodes: FakeEl[]) {
    this.children = [];
    for (const n of nodes) this.appendChild(n);
  }
  getContext() {
    const page = this.page!;
    return new Proxy({} as Record<string, unknown>, {
      get: () => () => undefined,
      set: (_t, k, v) => (k === "strokeStyle" && page.styles.push(v), true),
    });
  }
}

function runPage(search: string, responses: { status: number; body: unknown }[]) {
  const state = {
    styles: [] as string[],
    els: new Map<string, FakeEl>(),
    created: [] as string[],
    requests: [] as { url: string; auth: string | undefined }[],
    timers: [] as (() => void)[],
  };
  const el = (id: string) => {
    if (!state.els.has(id)) state.els.set(id, new FakeEl(id === "latency-chart" || id === "rate-chart" ? "canvas" : "div", state));
    return state.els.get(id)!;
  };
  const document = {
    hidden: false,
    getElementById: el,
    createElement: (tag: string) => (state.created.push(tag), new FakeEl(tag)),
    createDocumentFragment: () => new FakeEl("#fragment"),
  };
  const window = { devicePixelRatio: 2, addEventListener: () => {} };
  const fetch = (url: string, init: { headers: Record<string, string> }) => {
    state.requests.push({ url, auth: init.headers.Authorization });
    const r = responses.shift() ?? { status: 500, body: {} };
    return Promise.resolve({ status: r.status, ok: r.status < 300, json: () => Promise.resolve(r.body) });
  };
  const setTimeout = (fn: () => void) => state.timers.push(fn);
  const html = dashboardHtml();
  const script = html.slice(html.indexOf("<script>") + 8, html.indexOf("</script>"));
  new Function("window", "document", "location", "fetch", "setTimeout", script)(window, document, { search }, fetch, setTimeout);
  return Object.assign(state, {
    el,
    text: (id: string) => el(id).text,
    flush: () => new Promise((r) => globalThis.setTimeout(r, 5)),
  });
}
