/**
 * Prometheus / OpenMetrics exposition, checked with the real parsers (promtool and the Python
 * reference client; see test/helpers/prom-parse.ts for the install command).
 */
import { describe, expect, test } from "bun:test";
import { LatencyHistogram } from "../../src/observability/histogram.ts";
import {
  CONTENT_TYPES,
  escapeLabelValue,
  negotiateMetricsFormat,
  renderFamilies,
  type MetricFamily,
} from "../../src/observability/prometheus.ts";
import { Registry } from "../../src/observability/registry.ts";
import { capRooms, OTHER_ROOM, type RoomInput } from "../../src/observability/rooms.ts";
import { serverFamilies } from "../../src/observability/server-metrics.ts";
import type { MetricsInput } from "../../src/observability/snapshot.ts";
import { promtoolCheck, promtoolOpenMetrics, pyParse, sampleValue } from "../helpers/prom-parse.ts";

const HOSTILE = 'evil"room\\with\nnewline</script>';
const NOW = 1_700_000_100_000;

/** Room i has activity i (messages in + out), so rooms 51…150 are the top 100. */
const room = (i: number, id = `room-${i}`): RoomInput => ({
  id,
  connections: i % 7,
  messagesIn: i,
  messagesOut: 0,
  bytesIn: i * 10,
  bytesOut: i * 3,
  lastActivity: NOW - i,
});

function input(rooms: RoomInput[]): MetricsInput {
  const fanout = new LatencyHistogram();
  for (const v of [0.03, 0.2, 0.7, 3, 40, 900, 7000]) fanout.record(v);
  return {
    now: NOW,
    startedAt: NOW - 90_000,
    connections: { active: 12, total: 40, errors: 2 },
    messages: { in: 1000, out: 5000 },
    bytes: { in: 123456, out: 654321 },
    rooms,
    errorsByCode: new Map([["RATE_LIMITED", 4], ["BAD_MESSAGE", 1]]),
    fanout,
    version: "0.1.0",
    runtime: "bun",
  };
}

const rooms150 = () => Array.from({ length: 150 }, (_, k) => room(k + 1));
/** Sum of rooms 1…50's `messagesIn`. */
const OTHER_SUM = (50 * 51) / 2;

describe("server metrics, parsed by the real parsers", () => {
  test("text format: promtool parses and lints it clean", () => {
    const body = renderFamilies(serverFamilies(input(rooms150())), "text");
    const r = promtoolCheck(body);
    expect(r.output).toBe("");
    expect(r.ok).toBe(true);
    expect(body).not.toContain("# EOF");
    expect(body).toContain("# TYPE graphwiz_ws_messages_received_total counter\n");
  });

  test("OpenMetrics: Prometheus's OM parser and the strict reference parser accept it", () => {
    const body = renderFamilies(serverFamilies(input(rooms150())), "openmetrics");
    expect(body.endsWith("\n# EOF\n")).toBe(true);
    expect(body).toContain("# TYPE graphwiz_ws_messages_received counter\ngraphwiz_ws_messages_received_total 1000\n");
    expect(body).toContain("# UNIT graphwiz_ws_fanout_duration_seconds seconds\n");
    const r = promtoolOpenMetrics(body);
    expect(r.output).not.toContain("error");
    expect(r.ok).toBe(true);
    const fams = pyParse(body, "openmetrics");
    const byName = new Map(fams.map((f) => [f.name, f]));
    expect(byName.get("graphwiz_ws_messages_received")?.type).toBe("counter");
    expect(byName.get("graphwiz_ws_received_bytes")?.unit).toBe("bytes");
    expect(byName.get("graphwiz_ws_fanout_duration_seconds")?.type).toBe("histogram");
  });

  for (const format of ["text", "openmetrics"] as const) {
    test(`${format}: 150 rooms → 100 labelled + room="_other" holding the sum of the rest`, () => {
      const fams = pyParse(renderFamilies(serverFamilies(input(rooms150()), { maxRooms: 100 }), format), format);
      const series = fams.find((f) => f.name === "graphwiz_ws_room_messages_received")!.samples;
      expect(series.length).toBe(101);
      const rooms = series.map((s) => s.labels.room!);
      expect(new Set(rooms).size).toBe(101);
      expect(rooms).toContain(OTHER_ROOM);
      expect(rooms).toContain("room-150");
      expect(rooms).toContain("room-51");
      expect(rooms).not.toContain("room-50");
      expect(sampleValue(fams, "graphwiz_ws_room_messages_received_total", { room: OTHER_ROOM })).toBe(OTHER_SUM);
      expect(sampleValue(fams, "graphwiz_ws_room_received_bytes_total", { room: OTHER_ROOM })).toBe(OTHER_SUM * 10);
      expect(sampleValue(fams, "graphwiz_ws_room_messages_received_total", { room: "room-150" })).toBe(150);
      const conns = [...Array(50).keys()].reduce((a, k) => a + ((k + 1) % 7), 0);
      expect(sampleValue(fams, "graphwiz_ws_room_connections", { room: OTHER_ROOM })).toBe(conns);
      expect(sampleValue(fams, "graphwiz_ws_rooms_active")).toBe(150);
    });

    test(`${format}: hostile label values and help text survive escaping`, () => {
      const fams: MetricFamily[] = [
        { type: "gauge", name: "t_hostile", help: 'help with "quotes", back\\slash\nand newline', samples: [{ labels: { room: HOSTILE, b: "" }, value: 1 }] },
        ...serverFamilies(input([room(5, HOSTILE), room(1)])),
      ];
      const body = renderFamilies(fams, format);
      if (format === "text") expect(promtoolCheck(body)).toEqual({ ok: true, output: "" });
      else expect(promtoolOpenMetrics(body).ok).toBe(true);
      const parsed = pyParse(body, format);
      expect(parsed.find((f) => f.name === "t_hostile")!.help).toBe('help with "quotes", back\\slash\nand newline');
      expect(sampleValue(parsed, "t_hostile", { room: HOSTILE, b: "" })).toBe(1);
      expect(sampleValue(parsed, "graphwiz_ws_room_messages_received_total", { room: HOSTILE })).toBe(5);
    });

    test(`${format}: histogram buckets are cumulative seconds ending in +Inf = count`, () => {
      const parsed = pyParse(renderFamilies(serverFamilies(input([])), format), format);
      const h = parsed.find((f) => f.name === "graphwiz_ws_fanout_duration_seconds")!;
      const buckets = h.samples.filter((s) => s.name.endsWith("_bucket"));
      expect(buckets.map((s) => s.labels.le)).toEqual(
        (format === "text"
          ? ["0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5"]
          : ["0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0"]
        ).concat("+Inf"),
      );
      // 0.03 0.2 0.7 3 40 900 7000 ms
      expect(buckets.map((s) => s.value)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 7]);
      expect(sampleValue(parsed, "graphwiz_ws_fanout_duration_seconds_count")).toBe(7);
      expect(sampleValue(parsed, "graphwiz_ws_fanout_duration_seconds_sum")).toBeCloseTo(7.94393, 9);
    });
  }

  test("the parsers do reject broken output (so these tests can fail)", () => {
    const good = renderFamilies(serverFamilies(input([room(1)])), "openmetrics");
    expect(() => pyParse(good.replace("# EOF\n", ""), "openmetrics")).toThrow(/EOF/);
    expect(promtoolOpenMetrics(good.replace("# EOF\n", "")).ok).toBe(false);
    // OpenMetrics counter metadata must not carry _total.
    expect(() => pyParse(good.replace("# TYPE graphwiz_ws_messages_received counter", "# TYPE graphwiz_ws_messages_received_total counter"), "openmetrics")).toThrow();
    const text = renderFamilies(serverFamilies(input([room(1)])), "text");
    expect(promtoolCheck(text.replace('room="room-1"', 'room="room"-1"')).ok).toBe(false);
    expect(promtoolCheck(text + "# HELP x_ms y\n# TYPE x_ms gauge\nx_ms 1\n").ok).toBe(false);
  });
});

describe("renderFamilies rules", () => {
  const g = (name: string): MetricFamily => ({ type: "gauge", name, help: "h", samples: [{ value: 1 }] });
  test("escapes backslash, quote and newline in label values", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(renderFamilies([{ type: "gauge", name: "x", help: 'q"\\', samples: [{ labels: { l: '"' }, value: 2 }] }], "text")).toBe(
      '# HELP x q"\\\\\n# TYPE x gauge\nx{l="\\""} 2\n',
    );
  });

  test("special values: +Inf, -Inf, NaN", () => {
    const body = renderFamilies([{ type: "gauge", name: "v", help: "h", samples: [{ labels: { k: "a" }, value: Infinity }, { labels: { k: "b" }, value: -Infinity }, { labels: { k: "c" }, value: NaN }] }]);
    expect(body).toContain('v{k="a"} +Inf\nv{k="b"} -Inf\nv{k="c"} NaN\n');
    expect(promtoolCheck(body).ok).toBe(true);
  });

  test("naming errors throw", () => {
    expect(() => renderFamilies([{ type: "counter", name: "no_suffix", help: "h", samples: [] }])).toThrow(/_total/);
    expect(() => renderFamilies([g("dup"), g("dup")])).toThrow(/collides/);
    expect(() => renderFamilies([{ type: "histogram", name: "h", help: "h", series: [] }, g("h_count")])).toThrow(/collides/);
    expect(() => renderFamilies([{ type: "counter", name: "c_total", help: "h", samples: [] }, g("c")])).toThrow(/collides/);
    expect(() => renderFamilies([g("bad-name")])).toThrow(/bad metric name/);
    expect(() => renderFamilies([{ type: "gauge", name: "x", help: "h", samples: [{ labels: { "bad-label": "v" }, value: 1 }] }])).toThrow(/label name/);
    expect(() => renderFamilies([{ type: "gauge", name: "x", help: "h", samples: [{ labels: { __x: "v" }, value: 1 }] }])).toThrow(/label name/);
    expect(() => renderFamilies([{ type: "gauge", name: "x", help: "h", samples: [{ labels: { a: "1" }, value: 1 }, { labels: { a: "1" }, value: 2 }] }])).toThrow(/duplicate series/);
    expect(() => renderFamilies([{ type: "histogram", name: "h_seconds", help: "h", series: [{ labels: { le: "1" }, buckets: [{ le: Infinity, count: 0 }], sum: 0, count: 0 }] }])).toThrow(/le/);
    expect(() => renderFamilies([{ type: "histogram", name: "h_seconds", help: "h", series: [{ buckets: [{ le: 1, count: 0 }], sum: 0, count: 0 }] }])).toThrow(/\+Inf/);
    expect(() => renderFamilies([{ type: "gauge", name: "size", help: "h", unit: "bytes", samples: [] }])).toThrow(/unit/);
  });
});

describe("capRooms", () => {
  test("keeps the busiest, sums the rest, folds a real '_other' room into the aggregate", () => {
    const rooms = [room(3), room(9), room(1), room(9, "a-tie"), room(100, OTHER_ROOM)];
    const c = capRooms(rooms, 2);
    expect(c.top.map((r) => r.id)).toEqual(["a-tie", "room-9"]);
    expect(c.other).toEqual({ rooms: 3, connections: 3 + 1 + 2, messagesIn: 104, messagesOut: 0, bytesIn: 1040, bytesOut: 312, lastActivity: NOW - 1 });
    expect(c.total).toBe(5);
    expect(capRooms([room(1)], 100).other).toBeNull();
    expect(capRooms([room(1), room(2)], 0).top).toEqual([]);
  });
});

describe("negotiateMetricsFormat", () => {
  const PROMETHEUS_2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
  test.each([
    [PROMETHEUS_2, undefined, "openmetrics"],
    ["text/plain;version=0.0.4", undefined, "text"],
    ["application/json", undefined, "json"],
    ["application/openmetrics-text;q=0.2, text/plain;q=0.5", undefined, "text"],
    ["application/openmetrics-text;q=0, text/plain;q=0.1", undefined, "text"],
    ["application/openmetrics-text;q=0", undefined, "text"],
    ["*/*", undefined, "text"],
    [undefined, undefined, "text"],
    [PROMETHEUS_2, "json", "json"],
    ["application/json", "prometheus", "text"],
    [undefined, "openmetrics", "openmetrics"],
  ] as const)("Accept %p, ?format=%p → %p", (accept, query, want) => {
    expect(negotiateMetricsFormat(accept, query)).toBe(want);
  });

  test("the fallback is configurable (e.g. JSON for browsers)", () => {
    expect(negotiateMetricsFormat("*/*", undefined, "json")).toBe("json");
    expect(negotiateMetricsFormat(undefined, null, "json")).toBe("json");
    expect(CONTENT_TYPES.openmetrics).toStartWith("application/openmetrics-text; version=1.0.0");
    expect(CONTENT_TYPES.text).toStartWith("text/plain; version=0.0.4");
  });
});

describe("Registry", () => {
  test("reads plain fields at scrape time; labelled series are capped and the drop counted", () => {
    const stats = { hits: 0 };
    const reg = new Registry();
    reg.counter("app_hits_total", "Hits.", () => stats.hits);
    reg.gauge("app_queue", "Queue depth by kind.", () => [{ labels: { kind: "a" }, value: 1 }, { labels: { kind: "b" }, value: 2 }, { labels: { kind: "c" }, value: 3 }], { maxSeries: 2 });
    const h = new LatencyHistogram();
    h.record(1);
    reg.histogram("app_latency_seconds", "Latency.", () => h, { unit: "seconds" });
    stats.hits += 5;
    for (const format of ["text", "openmetrics"] as const) {
      const body = reg.render(format);
      if (format === "text") expect(promtoolCheck(body)).toEqual({ ok: true, output: "" });
      const fams = pyParse(body, format);
      expect(sampleValue(fams, "app_hits_total")).toBe(5);
      expect(fams.find((f) => f.name === "app_queue")!.samples.length).toBe(2);
      expect(sampleValue(fams, "app_latency_seconds_count")).toBe(1);
    }
    expect(sampleValue(pyParse(reg.render("openmetrics"), "openmetrics"), "graphwiz_ws_metrics_series_dropped")).toBe(1);
  });

  test("one family per name across collectors; removing a collector removes its families", () => {
    const reg = new Registry();
    reg.gauge("x", "h", () => 1);
    const remove = reg.gauge("x", "h", () => 2);
    expect(() => reg.render()).toThrow(/collides/);
    remove();
    expect(reg.render()).toContain("x 1\n");
  });
});
