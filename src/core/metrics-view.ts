/**
 * The `/metrics` views of a server: the seed's JSON report (plus the structured snapshot the
 * dashboard polls) and Prometheus / OpenMetrics text. Built on request from its counters.
 * @module
 */
import { histogramSeconds, renderFamilies, type ExpositionFormat, type MetricFamily, type Sample } from "../observability/prometheus.ts";
import { serverFamilies } from "../observability/server-metrics.ts";
import { buildReport, buildSnapshot, type MetricsInput } from "../observability/snapshot.ts";
import { SERVER_VERSION } from "../version.ts";
import type { BusCounters } from "../cluster/types.ts";
import type { Clock } from "../lib/clock.ts";
import type { LatencyHistogram } from "../observability/histogram.ts";
import { FORMATS, KINDS, type Metrics } from "../observability/metrics.ts";
import type { Room } from "./room.ts";

/** What the `/metrics` views read. */
export interface MetricsSource {
  metrics: Metrics;
  clock: Clock;
  runtime: string;
  /** METRICS_MAX_ROOMS. */
  maxRooms: number;
  rooms(): Iterable<Room>;
  /** The cluster backend: kind, this node, health and bus counters. */
  cluster(): { kind: string; node_id: string; healthy: boolean; bus: BusCounters };
  /** Reliable messages sent but not acknowledged, over all connections. */
  unacked(): number;
  /** Reliable messages waiting for an unreachable room log. */
  outbox(): number;
  /** Batch mode (issue 19): rooms in it, tick-phase durations, frames skipped for backed-up sockets. */
  batches(): { rooms: number; phaseTime: LatencyHistogram; skipped: number };
}

/** The plain inputs of the observability builders, read now. */
export function metricsInput(hub: MetricsSource): MetricsInput {
  const m = hub.metrics;
  const now = hub.clock.now();
  const [mi, mo, bi, bo] = m.rates.rates(now, [m.messagesReceived, m.messagesSent, m.bytesReceived, m.bytesSent]);
  return {
    now,
    startedAt: m.startedAt,
    connections: { active: m.connectionsActive, total: m.connectionsTotal, errors: m.connectionErrors },
    messages: { in: m.messagesReceived, out: m.messagesSent },
    bytes: { in: m.bytesReceived, out: m.bytesSent },
    rates: { messagesIn: mi, messagesOut: mo, bytesIn: bi, bytesOut: bo },
    rooms: [...hub.rooms()].map((r) => ({
      id: r.id,
      connections: r.members.size,
      messagesIn: r.messagesIn,
      messagesOut: r.messagesOut,
      bytesIn: r.bytesIn,
      bytesOut: r.bytesOut,
      lastActivity: r.lastActivity,
    })),
    errorsByCode: m.errorsByCode,
    fanout: m.fanout,
    history: m.fanoutHistory.history(now),
    version: SERVER_VERSION,
    runtime: hub.runtime,
  };
}

const summary = (h: { count: number; avg(): number; percentile(p: number): number; max: number }) =>
  h.count === 0 ? { count: 0 } : { count: h.count, avg: h.avg(), p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99), max: h.max };

/** `GET /metrics` as JSON: the seed's `{report, timestamp}` plus the structured snapshot. */
export function metricsJson(hub: MetricsSource): Record<string, unknown> {
  const input = metricsInput(hub);
  const m = hub.metrics;
  const byKind: Record<string, Record<string, { received: number; received_bytes: number; sent: number; sent_bytes: number }>> = {};
  KINDS.forEach((kind, slot) => FORMATS.forEach((format, f) => {
    const i = slot * FORMATS.length + f;
    if (m.receivedByKind[i] + m.sentByKind[i] === 0) return;
    (byKind[kind] ??= {})[format] = { received: m.receivedByKind[i], received_bytes: m.receivedBytesByKind[i], sent: m.sentByKind[i], sent_bytes: m.sentBytesByKind[i] };
  }));
  return {
    report: buildReport(input),
    timestamp: new Date(input.now).toISOString(),
    ...buildSnapshot(input, { maxRooms: hub.maxRooms }),
    messages_by_kind: byKind,
    disconnections_by_code: Object.fromEntries(m.closesByCode),
    rate_limited: { ...m.rateLimited },
    delivery: { ...m.delivery, ...queueTotals(hub) },
    cluster: (() => {
      const c = hub.cluster();
      return { ...c, bus: { ...c.bus } };
    })(),
    round_trip_ms: summary(m.roundTrip),
    message_age_ms: summary(m.messageAge),
  };
}

/** `GET /metrics` as Prometheus text (`text`) or OpenMetrics. */
export function metricsText(hub: MetricsSource, format: ExpositionFormat): string {
  const input = metricsInput(hub);
  return renderFamilies([...serverFamilies(input, { maxRooms: hub.maxRooms }), ...extraFamilies(hub)], format);
}

function extraFamilies(hub: MetricsSource): MetricFamily[] {
  const p = "graphwiz_ws_";
  const m = hub.metrics;
  const one = (value: number): Sample[] => [{ value }];
  const byKind = (arr: Float64Array): Sample[] => {
    const out: Sample[] = [];
    KINDS.forEach((kind, slot) => FORMATS.forEach((format, f) => {
      const v = arr[slot * FORMATS.length + f];
      if (v > 0) out.push({ labels: { kind, format }, value: v });
    }));
    return out;
  };
  const q = queueTotals(hub);
  const b = hub.batches();
  return [
    { type: "counter", name: `${p}disconnections_total`, help: "Closed connections by WebSocket close code.", samples: [...m.closesByCode].map(([code, value]) => ({ labels: { code }, value })) },
    { type: "counter", name: `${p}kind_messages_received_total`, help: "Frames received, by message kind and format.", samples: byKind(m.receivedByKind) },
    { type: "counter", name: `${p}kind_received_bytes_total`, unit: "bytes", help: "Bytes received, by message kind and format.", samples: byKind(m.receivedBytesByKind) },
    { type: "counter", name: `${p}kind_messages_sent_total`, help: "Frames delivered, by message kind and format.", samples: byKind(m.sentByKind) },
    { type: "counter", name: `${p}kind_sent_bytes_total`, unit: "bytes", help: "Bytes delivered, by message kind and format.", samples: byKind(m.sentBytesByKind) },
    { type: "counter", name: `${p}rate_limited_total`, help: "Messages dropped by a rate limit (connection, global) and connection attempts refused (connect).", samples: (["connection", "global", "connect"] as const).map((kind) => ({ labels: { kind }, value: m.rateLimited[kind] })) },
    { type: "counter", name: `${p}rate_limit_closes_total`, help: "Connections closed for staying over their rate limit.", samples: one(m.rateLimited.closes) },
    { type: "counter", name: `${p}burst_collections_total`, help: "Collections run after a connect burst to give its garbage back (COLLECT_AFTER_BURST).", samples: one(m.burstCollections) },
    { type: "counter", name: `${p}delivery_retries_total`, help: "Reliable messages resent for lack of an ACK.", samples: one(m.delivery.retries) },
    { type: "counter", name: `${p}delivery_resumes_total`, help: "Sessions resumed after a reconnect.", samples: one(m.delivery.resumes) },
    { type: "counter", name: `${p}delivery_resume_misses_total`, help: "Resume requests that could not be honoured (unknown, expired or trimmed).", samples: one(m.delivery.resume_misses) },
    { type: "counter", name: `${p}delivery_coalesced_total`, help: "Position updates replaced by a newer one while a client was slow.", samples: one(m.delivery.coalesced) },
    { type: "counter", name: `${p}outbox_retries_total`, help: "Appends retried from the outbox after the room log (Redis) was unreachable.", samples: one(m.delivery.outbox_retries) },
    { type: "counter", name: `${p}not_delivered_total`, help: "Reliable messages given up after waiting OUTBOX_TIMEOUT_MS for the room log (their senders got NOT_DELIVERED).", samples: one(m.delivery.not_delivered) },
    { type: "gauge", name: `${p}outbox_messages`, help: "Reliable messages waiting for an unreachable room log.", samples: one(hub.outbox()) },
    { type: "counter", name: `${p}slow_consumer_closes_total`, help: "Connections closed for passing SLOW_CONSUMER_HARD_BYTES.", samples: one(m.delivery.slow_consumer_closes) },
    { type: "counter", name: `${p}unresponsive_closes_total`, help: "Connections closed after MAX_RETRIES unacknowledged resends.", samples: one(m.delivery.unresponsive_closes) },
    { type: "gauge", name: `${p}queued_messages`, help: "Messages waiting in slow connections' queues.", samples: one(q.queued_messages) },
    { type: "gauge", name: `${p}queued_bytes`, unit: "bytes", help: "Bytes waiting in send buffers and queues.", samples: one(q.queued_bytes) },
    { type: "gauge", name: `${p}max_queued_bytes`, unit: "bytes", help: "The largest single connection's queued bytes.", samples: one(q.max_queued_bytes) },
    { type: "gauge", name: `${p}unacked_messages`, help: "Reliable messages sent but not yet acknowledged.", samples: one(q.unacked_messages) },
    { type: "histogram", name: `${p}round_trip_seconds`, unit: "seconds", help: "Client round trip from the server's ping to its pong.", series: [histogramSeconds(m.roundTrip)] },
    { type: "histogram", name: `${p}message_age_seconds`, unit: "seconds", help: "Age at arrival of messages carrying a client timestamp (includes clock skew).", series: [histogramSeconds(m.messageAge)] },
    { type: "gauge", name: `${p}batch_rooms`, help: "Rooms of this instance in batch mode (INTEREST_MIN_ROOM_SIZE players or more).", samples: one(b.rooms) },
    { type: "histogram", name: `${p}room_tick_phase_duration_seconds`, unit: "seconds", help: "Time of one batch-mode timer call (a quarter of one room's members; ROOM_TICK_HZ x 4 calls a second per room).", series: [histogramSeconds(b.phaseTime)] },
    { type: "counter", name: `${p}batch_frames_skipped_total`, help: "Batch-mode frames not sent because the member's socket was backed up (its next frame carries the newest poses).", samples: one(b.skipped) },
    ...busFamilies(hub),
  ];
}

/** Queue depths over all slow connections, unacknowledged and outbox messages. */
export function queueTotals(hub: MetricsSource) {
  let queued_messages = 0, queued_bytes = 0, max_queued_bytes = 0;
  for (const room of hub.rooms()) {
    for (const c of room.slow) {
      const b = c.queue!.bytes + c.transport.bufferedAmount();
      queued_messages += c.queue!.length;
      queued_bytes += b;
      if (b > max_queued_bytes) max_queued_bytes = b;
    }
  }
  return { queued_messages, queued_bytes, max_queued_bytes, unacked_messages: hub.unacked(), outbox_messages: hub.outbox() };
}

/** Metric families of the cluster bus (frames across instances, errors, reconnects). */
function busFamilies(hub: MetricsSource): MetricFamily[] {
  const cl = hub.cluster();
  const c = cl.bus as unknown as Record<string, number>;
  const counter = (name: string, help: string, value: number): MetricFamily => ({ type: "counter", name: `graphwiz_ws_bus_${name}_total`, help, samples: [{ value }] });
  return [
    counter("published", "Frames published to other instances.", c.published ?? 0),
    counter("received", "Frames received from other instances.", c.received ?? 0),
    counter("dropped", "Frames not published because the bus was unavailable or overloaded.", c.dropped ?? 0),
    counter("errors", "Bus and store errors.", c.errors ?? 0),
    counter("reconnects", "Reconnections to Redis.", c.reconnects ?? 0),
    { type: "gauge", name: "graphwiz_ws_cluster_healthy", help: "1 when the cluster backend is reachable.", samples: [{ value: cl.healthy ? 1 : 0 }] },
  ];
}
