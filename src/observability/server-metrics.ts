/**
 * The server's Prometheus metric families, built from the same {@link MetricsInput} as the JSON
 * snapshot. Every name starts with `graphwiz_ws_`; times are seconds and sizes bytes (base
 * units, as `promtool check metrics` wants). Per-room families carry a `room` label for the
 * busiest `maxRooms` rooms and `room="_other"` for the sum of the rest.
 *
 * | family | type | labels |
 * |---|---|---|
 * | `graphwiz_ws_build_info` | gauge (always 1) | `version`, `runtime` |
 * | `graphwiz_ws_start_time_seconds` | gauge | |
 * | `graphwiz_ws_uptime_seconds` | gauge | |
 * | `graphwiz_ws_connections_active` | gauge | |
 * | `graphwiz_ws_connections_opened_total` | counter | |
 * | `graphwiz_ws_connection_errors_total` | counter | |
 * | `graphwiz_ws_messages_received_total` / `…_sent_total` | counter | |
 * | `graphwiz_ws_received_bytes_total` / `graphwiz_ws_sent_bytes_total` | counter | |
 * | `graphwiz_ws_error_frames_total` | counter | `code` |
 * | `graphwiz_ws_rooms_active` | gauge | |
 * | `graphwiz_ws_room_connections` | gauge | `room` |
 * | `graphwiz_ws_room_messages_received_total` / `…_sent_total` | counter | `room` |
 * | `graphwiz_ws_room_received_bytes_total` / `graphwiz_ws_room_sent_bytes_total` | counter | `room` |
 * | `graphwiz_ws_fanout_duration_seconds` | histogram | |
 * @module
 */
import { histogramSeconds, type MetricFamily, type Sample } from "./prometheus.ts";
import { capRooms, OTHER_ROOM, type RoomInput } from "./rooms.ts";
import type { MetricsInput } from "./snapshot.ts";

/** Options of {@link serverFamilies}. */
export interface ServerFamiliesOptions {
  /** Rooms with their own `room` label (`METRICS_MAX_ROOMS`); the rest are `room="_other"`. @default 100 */
  maxRooms?: number;
}

/** The server's families, ready for `renderFamilies` or a `Registry` collector. */
export function serverFamilies(input: MetricsInput, opts: ServerFamiliesOptions = {}): MetricFamily[] {
  const p = "graphwiz_ws_";
  const one = (value: number): Sample[] => [{ value }];
  const families: MetricFamily[] = [];
  if (input.version !== undefined || input.runtime !== undefined) {
    families.push({
      type: "gauge",
      name: `${p}build_info`,
      help: "Always 1; the labels say which version runs on which runtime.",
      samples: [{ labels: { version: input.version ?? "", runtime: input.runtime ?? "" }, value: 1 }],
    });
  }
  families.push(
    { type: "gauge", name: `${p}start_time_seconds`, unit: "seconds", help: "Start time of the server since the Unix epoch.", samples: one(input.startedAt / 1000) },
    { type: "gauge", name: `${p}uptime_seconds`, unit: "seconds", help: "Seconds since the server started.", samples: one(Math.max(0, (input.now - input.startedAt) / 1000)) },
    { type: "gauge", name: `${p}connections_active`, help: "Open WebSocket connections.", samples: one(input.connections.active) },
    { type: "counter", name: `${p}connections_opened_total`, help: "WebSocket connections accepted since start.", samples: one(input.connections.total) },
    { type: "counter", name: `${p}connection_errors_total`, help: "Connections that ended abnormally (close code 1006, 1011 or none).", samples: one(input.connections.errors) },
    { type: "counter", name: `${p}messages_received_total`, help: "Frames received from clients.", samples: one(input.messages.in) },
    { type: "counter", name: `${p}messages_sent_total`, help: "Frames delivered to clients (a broadcast to 9 peers counts 9).", samples: one(input.messages.out) },
    { type: "counter", name: `${p}received_bytes_total`, unit: "bytes", help: "Bytes received from clients.", samples: one(input.bytes.in) },
    { type: "counter", name: `${p}sent_bytes_total`, unit: "bytes", help: "Bytes delivered to clients.", samples: one(input.bytes.out) },
    {
      type: "counter",
      name: `${p}error_frames_total`,
      help: "ERROR frames sent to clients, by error code.",
      samples: [...(input.errorsByCode ?? [])].map(([code, value]) => ({ labels: { code }, value })),
    },
    { type: "gauge", name: `${p}rooms_active`, help: "Rooms with at least one connection on this instance.", samples: one(input.rooms.length) },
  );

  const { top, other } = capRooms(input.rooms, opts.maxRooms ?? 100);
  const perRoom = (read: (r: Pick<RoomInput, "connections" | "messagesIn" | "messagesOut" | "bytesIn" | "bytesOut">) => number): Sample[] => {
    const out: Sample[] = top.map((r) => ({ labels: { room: r.id }, value: read(r) }));
    if (other) out.push({ labels: { room: OTHER_ROOM }, value: read(other) });
    return out;
  };
  const roomNote = ` Rooms beyond the ${opts.maxRooms ?? 100} busiest are summed under room="${OTHER_ROOM}".`;
  families.push(
    { type: "gauge", name: `${p}room_connections`, help: `Connections per room.${roomNote}`, samples: perRoom((r) => r.connections) },
    { type: "counter", name: `${p}room_messages_received_total`, help: `Frames received per room.${roomNote}`, samples: perRoom((r) => r.messagesIn) },
    { type: "counter", name: `${p}room_messages_sent_total`, help: `Frames delivered per room.${roomNote}`, samples: perRoom((r) => r.messagesOut) },
    { type: "counter", name: `${p}room_received_bytes_total`, unit: "bytes", help: `Bytes received per room.${roomNote}`, samples: perRoom((r) => r.bytesIn) },
    { type: "counter", name: `${p}room_sent_bytes_total`, unit: "bytes", help: `Bytes delivered per room.${roomNote}`, samples: perRoom((r) => r.bytesOut) },
  );

  if (input.fanout) {
    families.push({
      type: "histogram",
      name: `${p}fanout_duration_seconds`,
      unit: "seconds",
      help: "Time to hand one broadcast to every recipient's socket.",
      series: [histogramSeconds(input.fanout)],
    });
  }
  return families;
}
