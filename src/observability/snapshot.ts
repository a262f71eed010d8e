/**
 * The server's numbers as plain inputs ({@link MetricsInput}) and the two human-facing views
 * built from them: the JSON snapshot the dashboard polls (`GET /metrics?format=json`) and the
 * text report. Pure functions: the caller gathers the numbers, these only shape them.
 *
 * Wiring sketch (the hub owns the objects, the route builds the input once per request):
 * ```ts
 * const fanout = new LatencyHistogram(), rolling = new RollingLatency(), meter = new RateMeter(4);
 * // hot path, per broadcast:  fanout.record(ms); rolling.record(ms, now);
 * const [mi, mo, bi, bo] = meter.rates(now, [m.messagesReceived, m.messagesSent, m.bytesReceived, m.bytesSent]);
 * const input: MetricsInput = { now, startedAt: m.startedAt, connections: {…}, messages: {…}, bytes: {…},
 *   rates: { messagesIn: mi, messagesOut: mo, bytesIn: bi, bytesOut: bo },
 *   rooms: [...hub.rooms.values()].map((r) => ({ id: r.id, connections: r.members.size, … })),
 *   errorsByCode: m.errorsByCode, fanout, history: rolling.history(now) };
 * ```
 * @module
 */
import type { LatencyHistogram } from "./histogram.ts";
import type { LatencyPoint } from "./rolling.ts";
import { capRooms, type RoomInput } from "./rooms.ts";

/** Everything the snapshot, the report and the Prometheus families are built from. */
export interface MetricsInput {
  /** The time of the snapshot (epoch ms). */
  now: number;
  /** When the server started (epoch ms). */
  startedAt: number;
  connections: { active: number; total: number; errors: number };
  /** Running totals: frames received, frames delivered. */
  messages: { in: number; out: number };
  bytes: { in: number; out: number };
  /** Per-second rates (e.g. from a `RateMeter`). @default all 0 */
  rates?: { messagesIn: number; messagesOut: number; bytesIn: number; bytesOut: number };
  /** Every room on this instance (capped when shaped). */
  rooms: readonly RoomInput[];
  /** Error frames sent, by error code. @default none */
  errorsByCode?: ReadonlyMap<string, number>;
  /** Broadcast fan-out latency since start (ms). @default none (latency fields are null) */
  fanout?: LatencyHistogram;
  /** Fan-out latency per time slot (from `RollingLatency.history(now)`). @default [] */
  history?: readonly LatencyPoint[];
  /** Server version and runtime, shown by the dashboard and in `graphwiz_ws_build_info`. */
  version?: string;
  runtime?: string;
}

/** One room in the JSON snapshot. */
export interface RoomSnapshot {
  id: string;
  connections: number;
  messages_in: number;
  messages_out: number;
  bytes_in: number;
  bytes_out: number;
  /** ISO 8601. */
  last_activity: string;
}

/**
 * The body of `GET /metrics?format=json` (what the dashboard polls). Latencies are in ms and
 * `null` while there is no sample; rates are per second; times are ISO 8601 except
 * `latency.history[].t` (epoch ms, for the chart's x axis).
 */
export interface MetricsSnapshot {
  /** Server time of the snapshot (ISO 8601); the dashboard measures "ago" against it. */
  time: string;
  uptime_s: number;
  version: string | null;
  runtime: string | null;
  connections: { active: number; total: number; errors: number };
  messages: { in: number; out: number; in_per_s: number; out_per_s: number };
  bytes: { in: number; out: number; in_per_s: number; out_per_s: number };
  /** Rooms on this instance (all of them, including those summed in `rooms_other`). */
  rooms_total: number;
  /** The busiest `maxRooms` rooms, busiest first. */
  rooms: RoomSnapshot[];
  /** The other rooms summed (`rooms` is how many); `null` when every room is listed. */
  rooms_other: (Omit<RoomSnapshot, "id"> & { rooms: number }) | null;
  errors_by_code: Record<string, number>;
  latency: {
    fanout_ms: { count: number; avg: number | null; p50: number | null; p90: number | null; p99: number | null; p999: number | null; max: number | null };
    history: LatencyPoint[];
  };
}

/** Options of {@link buildSnapshot}. */
export interface SnapshotOptions {
  /** Rooms listed individually (`METRICS_MAX_ROOMS`). @default 100 */
  maxRooms?: number;
}

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
/** Latency in ms rounded to the microsecond; `null` for "no data". */
const ms = (v: number | null | undefined): number | null => (v === null || v === undefined || v !== v ? null : round(v, 3));
const iso = (t: number): string => new Date(t).toISOString();

/** Builds the JSON snapshot of {@link MetricsSnapshot} from plain inputs. */
export function buildSnapshot(input: MetricsInput, opts: SnapshotOptions = {}): MetricsSnapshot {
  const rates = input.rates ?? { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
  const capped = capRooms(input.rooms, opts.maxRooms ?? 100);
  const h = input.fanout;
  const empty = !h || h.count === 0;
  const errors: Record<string, number> = {};
  for (const [code, n] of input.errorsByCode ?? []) errors[code] = n;
  const o = capped.other;
  return {
    time: iso(input.now),
    uptime_s: round(Math.max(0, (input.now - input.startedAt) / 1000), 1),
    version: input.version ?? null,
    runtime: input.runtime ?? null,
    connections: { active: input.connections.active, total: input.connections.total, errors: input.connections.errors },
    messages: { in: input.messages.in, out: input.messages.out, in_per_s: round(rates.messagesIn, 2), out_per_s: round(rates.messagesOut, 2) },
    bytes: { in: input.bytes.in, out: input.bytes.out, in_per_s: round(rates.bytesIn, 1), out_per_s: round(rates.bytesOut, 1) },
    rooms_total: capped.total,
    rooms: capped.top.map((r) => ({
      id: r.id,
      connections: r.connections,
      messages_in: r.messagesIn,
      messages_out: r.messagesOut,
      bytes_in: r.bytesIn,
      bytes_out: r.bytesOut,
      last_activity: iso(r.lastActivity),
    })),
    rooms_other: o && {
      rooms: o.rooms,
      connections: o.connections,
      messages_in: o.messagesIn,
      messages_out: o.messagesOut,
      bytes_in: o.bytesIn,
      bytes_out: o.bytesOut,
      last_activity: iso(o.lastActivity),
    },
    errors_by_code: errors,
    latency: {
      fanout_ms: {
        count: h?.count ?? 0,
        avg: empty ? null : ms(h.avg()),
        p50: empty ? null : ms(h.percentile(50)),
        p90: empty ? null : ms(h.percentile(90)),
        p99: empty ? null : ms(h.percentile(99)),
        p999: empty ? null : ms(h.percentile(99.9)),
        max: empty ? null : ms(h.max),
      },
      history: (input.history ?? []).map((p) => ({ t: p.t, count: p.count, p50: ms(p.p50), p99: ms(p.p99), max: ms(p.max) })),
    },
  };
}

/**
 * The human-readable report (the seed's first six lines, unchanged, plus rates and latency):
 * ```
 * === Performance Report ===
 * Uptime: 12.3s
 * Connections: 3 active / 10 total (1 errors)
 * Messages: 50 received / 120 sent (2.50/s in, 6.00/s out)
 * Bytes: 4096 received / 9000 sent
 * Rooms: 2 active
 * Latency: avg 0.120ms, p50 0.100ms, p99 0.900ms
 * ```
 * The rates part is left out when `input.rates` is absent; the last line reads
 * `Latency: no samples` before the first broadcast.
 */
export function buildReport(input: MetricsInput): string {
  const uptime = Math.max(0, (input.now - input.startedAt) / 1000);
  const c = input.connections;
  const r = input.rates;
  const h = input.fanout;
  return [
    "=== Performance Report ===",
    `Uptime: ${uptime.toFixed(1)}s`,
    `Connections: ${c.active} active / ${c.total} total (${c.errors} errors)`,
    `Messages: ${input.messages.in} received / ${input.messages.out} sent` +
      (r ? ` (${r.messagesIn.toFixed(2)}/s in, ${r.messagesOut.toFixed(2)}/s out)` : ""),
    `Bytes: ${input.bytes.in} received / ${input.bytes.out} sent`,
    `Rooms: ${input.rooms.length} active`,
    h && h.count > 0
      ? `Latency: avg ${h.avg().toFixed(3)}ms, p50 ${h.percentile(50).toFixed(3)}ms, p99 ${h.percentile(99).toFixed(3)}ms`
      : "Latency: no samples",
  ].join("\n");
}
