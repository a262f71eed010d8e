/** The scenarios, per mode (full, quick, smoke): what runs against which servers, how long. @module */
import type { LoadSpec, ScenarioKind } from "./spec.ts";

export type Mode = "full" | "quick" | "smoke";

/** A result metric: how it is named, shown, and which way is better. */
export interface Metric {
  key: string;
  label: string;
  higherIsBetter: boolean;
  digits?: number;
}

export interface Scenario {
  id: string;
  title: string;
  /** One paragraph for RESULTS.md: what is measured and how. */
  about: string;
  kind: ScenarioKind;
  targets: string[];
  reps: number;
  spec: Partial<LoadSpec>;
  /**
   * Size `clients` per runtime before the measured runs: probe the runtime's raw baseline (up to
   * three runs, not recorded), scaling `clients` until its server CPU % is within `cpu`; that
   * runtime's servers then all run with that count (bench/run.ts).
   */
  sizeByRawCpu?: { cpu: [number, number] };
  /** The metric ratios are taken on. */
  primary: Metric;
  /** Further columns (medians). */
  columns: Metric[];
}

const M = {
  delivered: { key: "delivered_per_s", label: "delivered msg/s", higherIsBetter: true },
  ratio: { key: "delivered_ratio", label: "delivered ratio", higherIsBetter: true, digits: 4 },
  clients: { key: "clients", label: "clients", higherIsBetter: true },
  p50: { key: "p50_ms", label: "p50 ms", higherIsBetter: false },
  p99: { key: "p99_ms", label: "p99 ms", higherIsBetter: false },
  p999: { key: "p999_ms", label: "p99.9 ms", higherIsBetter: false },
  cpu: { key: "server_cpu_pct", label: "server CPU %", higherIsBetter: false },
  rss: { key: "server_rss_kib", label: "server RSS KiB", higherIsBetter: false },
  perConn: { key: "rss_per_conn_kib", label: "KiB/conn", higherIsBetter: false, digits: 3 },
  rssAfter: { key: "rss_after_kib", label: "RSS after KiB", higherIsBetter: false },
  connectMs: { key: "connect_ms", label: "connect ms", higherIsBetter: false },
  connPerS: { key: "conn_per_s", label: "conn/s", higherIsBetter: true },
  acceptS: { key: "accept_s", label: "accept s", higherIsBetter: false },
  hs50: { key: "handshake_p50_ms", label: "handshake p50 ms", higherIsBetter: false },
  hs99: { key: "handshake_p99_ms", label: "handshake p99 ms", higherIsBetter: false },
  lost: { key: "lost", label: "lost", higherIsBetter: false },
  lg: { key: "loadgen_cpu_pct", label: "load gen CPU %", higherIsBetter: false },
  sent: { key: "sent_per_s", label: "sent msg/s", higherIsBetter: true },
  eff: { key: "delivered_per_cpu_s", label: "msg per server CPU-s", higherIsBetter: true },
} satisfies Record<string, Metric>;

const ALL_SINGLE = ["gw-bun", "raw-bun-publish", "gw-binary", "gw-node", "raw-node-preframed", "raw-node-ws-corked", "raw-node-ws", "gw-deno", "raw-deno-preframed", "raw-deno-loop", "socketio"];
/** The servers the issue-17 targets compare (what `--quick` runs). */
const LIMITS = ["gw-bun", "raw-bun-publish", "gw-node", "raw-node-preframed", "gw-deno", "raw-deno-preframed"];

const FANOUT_ABOUT = (r: number, w: number) =>
  `One sender and ${r} receivers in one room. The sender keeps ${w} messages in flight: a message stops being in ` +
  `flight when the first receiver has it, and the sender refills in batches of ${w / 8} (so the server gets new work while ` +
  `the load generator is still reading the other receivers; waiting for all ${r} makes both sides idle in turn and the ` +
  `figures bimodal). Frames are protobuf \`PositionUpdate\` frames (50 B in, ~75 B out from our ` +
  `server, which stamps id, time and entity), every 16th a \`ChatMessage\`; raw baselines relay the same bytes ` +
  `verbatim, Socket.IO carries them as a binary event. Delivered msg/s counts frames received by all receivers in ` +
  `the measurement window; lost counts sequence gaps seen by receivers; latency is receive time − send time of the frame's sequence number (same process clock).`;

const POSITION_ABOUT = (c: number, rooms: number, hz: number) =>
  `${c} clients in ${rooms} rooms of ${c / rooms}; each sends a ~28-byte protobuf \`PositionUpdate\` at ${hz} Hz ` +
  `(open loop, phases spread evenly). Delivered ratio = frames received / (frames sent × (room size − 1)) over the ` +
  `measurement window, with a 1 s drain. Server CPU % (of one core) from /proc/<pid>/stat over the window; RSS from /proc/<pid>/status.`;

export function plan(mode: Mode): Scenario[] {
  if (mode === "smoke") {
    return [{
      id: "fanout", title: "Fan-out 1→10 (smoke)", about: FANOUT_ABOUT(10, 16), kind: "fanout",
      targets: ["gw-bun", "raw-bun-publish"], reps: 1,
      spec: { receivers: 10, window: 16, chatEvery: 16, warmupMs: 300, measureMs: 1000 },
      primary: M.delivered, columns: [M.p50, M.p99, M.cpu, M.lg],
    }];
  }
  const quick = mode === "quick";
  const fanout: Scenario = {
    id: "fanout", title: "1. Fan-out 1→100", about: FANOUT_ABOUT(100, 128), kind: "fanout",
    targets: quick ? LIMITS : ALL_SINGLE,
    reps: quick ? 1 : 3,
    spec: { receivers: 100, window: 128, chatEvery: 16, warmupMs: quick ? 500 : 1000, measureMs: quick ? 1500 : 3000 },
    primary: M.delivered, columns: [M.eff, M.p50, M.p99, M.p999, M.cpu, M.lost, M.lg],
  };
  const reliable: Scenario = {
    id: "fanout-reliable", title: "1r. Fan-out 1→100, acknowledged delivery", kind: "fanout",
    about: `As scenario 1, but every frame is a \`ChatMessage\` (reliable) and the receivers connect with \`?ack=1\`, so ` +
      `each message goes through the room log: it gets the room's sequence number inside its bytes (the same bytes for ` +
      `every receiver, so the fan-out stays native) and is kept for resends and resume. Compare with scenario 1 ` +
      `(position updates, no log) to see what the sequencing and history cost. Receivers acknowledge like the SDK ` +
      `(an \`ACK\` of the latest sequence after every 32 messages), so the cost of ACK ingress is measured too.`,
    targets: ["gw-bun", "gw-node", "gw-deno"],
    reps: 2,
    spec: { receivers: 100, window: 128, chatEvery: 1, ack: true, warmupMs: 1000, measureMs: 3000 },
    primary: M.delivered, columns: [M.eff, M.p50, M.p99, M.p999, M.cpu, M.lost, M.lg],
  };
  const pos = (hz: number, targets: string[], reps: number, clients = 1000): Scenario => ({
    id: `position-${hz}hz`, title: `2${hz === 10 ? "a" : "b"}. ${clients.toLocaleString("en")} clients × ${hz} Hz in ${clients / 10} rooms`,
    about: POSITION_ABOUT(clients, clients / 10, hz), kind: "position", targets, reps,
    spec: { clients, rooms: clients / 10, hz, warmupMs: quick ? 500 : 1000, measureMs: quick ? 2000 : 4000, drainMs: 1000, concurrency: 100 },
    primary: M.cpu, columns: [M.ratio, M.p50, M.p99, M.rss, M.lg],
  });
  // 30 Hz: a CPU ratio says nothing when every server is pinned at 100 %, nor much at 20 %, and
  // one client count cannot put all three raw servers at 40–70 % on every machine (Node's and
  // Deno's use ~1.5× Bun's): each runtime gets its own count, found against its raw server.
  const pos30: Scenario = {
    ...pos(30, LIMITS, 1, 300),
    title: "2b. Clients × 30 Hz in rooms of 10, sized per runtime",
    about: `${POSITION_ABOUT(300, 30, 30).replace("300 clients in 30 rooms of 10", "Clients in rooms of 10")} ` +
      `As many clients per runtime as make its raw server use 40–70 % of a core: before the measured runs, up to three ` +
      `unrecorded runs of the raw server, starting from 300 clients and scaling the count by its CPU %; both servers of ` +
      `that runtime then run with that count (the clients column).`,
    sizeByRawCpu: { cpu: [40, 70] },
    columns: [M.clients, M.ratio, M.p50, M.p99, M.rss, M.lg],
  };
  const posTargets = [...LIMITS, "socketio"];
  const idleN = quick ? 2000 : 10_000;
  const idle: Scenario = {
    id: "idle", title: `3. ${idleN.toLocaleString("en")} idle connections`, kind: "idle",
    about: `${idleN.toLocaleString("en")} authenticated connections in 100 rooms, opened 200 at a time after 20 warm-up ` +
      `connections; RSS per connection = (RSS after the connections settled − RSS before) / N, from /proc/<pid>/status ` +
      `(fewer connections give higher figures per connection: heaps grow in steps). ` +
      `One Bun load-generator process holds them all as raw sockets (its fd limit is 20,000 here).`,
    targets: quick ? LIMITS : [...LIMITS, "raw-node-ws", "raw-deno-loop", "socketio"],
    reps: quick ? 1 : 2,
    spec: { conns: idleN, rooms: 100, concurrency: 200, settleMs: quick ? 800 : 1500 },
    primary: M.perConn, columns: [M.rssAfter, M.connectMs],
  };
  const stormN = quick ? 1000 : 5000;
  const storm: Scenario = {
    id: "storm", title: `4. Connection storm: ${stormN.toLocaleString("en")} authenticated connections`, kind: "storm",
    about: `Time until ${stormN.toLocaleString("en")} connections, each with its own HS256 JWT (\`?token=\`; Socket.IO: ` +
      `\`auth.token\`), are ready — our server: SERVER_HELLO received; baselines: \`101\` (they verify the token too); ` +
      `Socket.IO: namespace CONNECT acknowledged — with at most 256 handshakes outstanding (the listen backlog here is 511).`,
    targets: quick ? ["gw-bun", "raw-bun-publish"] : ["gw-bun", "raw-bun-publish", "gw-binary", "gw-node", "raw-node-preframed", "gw-deno", "raw-deno-preframed", "socketio"],
    reps: quick ? 1 : 2,
    spec: { conns: stormN, rooms: 50, concurrency: 256 },
    primary: M.connPerS, columns: [M.acceptS, M.hs50, M.hs99, M.cpu],
  };
  const cluster: Scenario = {
    id: "cluster", title: "5. Cross-instance fan-out 1→100 (two instances + Redis)", kind: "fanout",
    about: `As scenario 1, but the sender is on instance A and the 100 receivers on instance B; both instances and a ` +
      `private \`redis-server\` (free port, no persistence) share core 0. Compared with Socket.IO ×2 + ` +
      `@socket.io/redis-adapter, and with single-instance fan-out of scenario 1 for the cross-instance target.`,
    targets: ["gw-bun-cluster", "socketio-cluster"],
    reps: quick ? 1 : 3,
    spec: { receivers: 100, window: 128, chatEvery: 16, warmupMs: quick ? 500 : 1000, measureMs: quick ? 1500 : 3000 },
    primary: M.delivered, columns: [M.eff, M.p50, M.p99, M.p999, M.cpu, M.lost, M.lg],
  };
  // Quick: only what the issue-17 targets need (fan-out and idle memory against each runtime's limit).
  return quick
    ? [fanout, idle]
    : [fanout, reliable, pos(10, posTargets, 2), pos30, idle, storm, cluster];
}

/** The product's targets, checked against the medians. */
export interface Check {
  id: string;
  text: string;
  /** Returns [measured, passes, shown measured] or undefined when the data is missing. */
  eval(get: (scenario: string, target: string, key: string) => number | undefined): { value: number; pass: boolean; shown: string } | undefined;
  need: string;
  /** One of the [performance] issue-17 targets: `--quick` checks these and exits 1 when one fails. */
  limit?: boolean;
}

const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
const times = (x: number) => `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×`;

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : undefined;
}

export const CHECKS: Check[] = [
  {
    id: "bun-fanout", text: "Bun fan-out vs raw native publish", need: "≥ 90 %", limit: true,
    eval: (g) => fanRatio(g, ["fanout", "gw-bun"], ["fanout", "raw-bun-publish"], (r) => r >= 0.9, pct),
  },
  {
    id: "bun-pos10-delivered", text: "Bun at 1,000×10 Hz: delivered ratio", need: "1.0 (≥ 0.999)",
    eval: (g) => wrap(g("position-10hz", "gw-bun", "delivered_ratio"), (r) => r >= 0.999, (r) => r.toFixed(4)),
  },
  {
    id: "bun-pos10-cpu", text: "Bun at 1,000×10 Hz: server CPU vs raw native publish", need: "≤ 1.3×",
    eval: (g) => wrap(ratio(g("position-10hz", "gw-bun", "server_cpu_pct"), g("position-10hz", "raw-bun-publish", "server_cpu_pct")), (r) => r <= 1.3, times),
  },
  {
    id: "bun-idle-mem", text: "Bun idle memory per connection", need: "≤ 4 KiB", limit: true,
    eval: (g) => wrap(g("idle", "gw-bun", "rss_per_conn_kib"), (r) => r <= 4, (r) => `${r.toFixed(2)} KiB`),
  },
  {
    id: "node-fanout", text: "Node fan-out vs pre-framed `ws`", need: "≥ 85 %", limit: true,
    eval: (g) => fanRatio(g, ["fanout", "gw-node"], ["fanout", "raw-node-preframed"], (r) => r >= 0.85, pct),
  },
  {
    id: "node-idle-mem", text: "Node idle memory vs pre-framed `ws`", need: "≤ 1.3×", limit: true,
    eval: (g) => wrap(ratio(g("idle", "gw-node", "rss_per_conn_kib"), g("idle", "raw-node-preframed", "rss_per_conn_kib")), (r) => r <= 1.3, times),
  },
  {
    id: "deno-fanout", text: "Deno (`deno task start`) fan-out vs pre-framed `ws` on the same Deno", need: "≥ 85 %", limit: true,
    eval: (g) => fanRatio(g, ["fanout", "gw-deno"], ["fanout", "raw-deno-preframed"], (r) => r >= 0.85, pct),
  },
  {
    id: "deno-idle-mem", text: "Deno idle memory vs pre-framed `ws` on the same Deno", need: "≤ 1.3×", limit: true,
    eval: (g) => wrap(ratio(g("idle", "gw-deno", "rss_per_conn_kib"), g("idle", "raw-deno-preframed", "rss_per_conn_kib")), (r) => r <= 1.3, times),
  },
  {
    id: "bun-vs-socketio", text: "Bun fan-out vs Socket.IO", need: "≥ 50×",
    eval: (g) => fanRatio(g, ["fanout", "gw-bun"], ["fanout", "socketio"], (r) => r >= 50, times),
  },
  {
    id: "node-vs-socketio", text: "Node fan-out vs Socket.IO", need: "≥ 20×",
    eval: (g) => fanRatio(g, ["fanout", "gw-node"], ["fanout", "socketio"], (r) => r >= 20, times),
  },
  {
    id: "deno-vs-socketio", text: "Deno fan-out vs Socket.IO", need: "≥ 3×",
    eval: (g) => fanRatio(g, ["fanout", "gw-deno"], ["fanout", "socketio"], (r) => r >= 3, times),
  },
  {
    id: "node-pos10-delivered", text: "Node at 1,000×10 Hz: delivered ratio", need: "1.0 (≥ 0.999)",
    eval: (g) => wrap(g("position-10hz", "gw-node", "delivered_ratio"), (r) => r >= 0.999, (r) => r.toFixed(4)),
  },
  {
    id: "bun-cross-instance", text: "Bun cross-instance fan-out vs single instance", need: "≥ 50 %",
    eval: (g) => fanRatio(g, ["cluster", "gw-bun-cluster"], ["fanout", "gw-bun"], (r) => r >= 0.5, pct),
  },
];

/**
 * A fan-out throughput ratio (what the target is about), shown with the same ratio of msg per
 * server CPU-second: on a shared machine, other processes take the server's core now and then,
 * which moves msg/s a lot and msg per CPU-second little.
 */
function fanRatio(
  g: (scenario: string, target: string, key: string) => number | undefined,
  a: [string, string], b: [string, string], ok: (r: number) => boolean, show: (r: number) => string,
) {
  const r = wrap(ratio(g(a[0], a[1], "delivered_per_s"), g(b[0], b[1], "delivered_per_s")), ok, show);
  const e = ratio(g(a[0], a[1], "delivered_per_cpu_s"), g(b[0], b[1], "delivered_per_cpu_s"));
  if (r && e !== undefined && Number.isFinite(e)) r.shown += ` (per server CPU-s: ${show(e)})`;
  return r;
}

function wrap(v: number | undefined, ok: (v: number) => boolean, show: (v: number) => string) {
  return v === undefined || !Number.isFinite(v) ? undefined : { value: v, pass: ok(v), shown: show(v) };
}
