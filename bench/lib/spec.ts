/** What the runner asks one load-generator process to do, and what it answers. @module */
import type { Dialect } from "./wsclient.ts";

export type ScenarioKind = "fanout" | "position" | "idle" | "storm";

export interface LoadSpec {
  scenario: ScenarioKind;
  dialect: Dialect;
  /** Server ports. Fan-out: the sender uses ports[0], receivers the last one (two for the cluster). */
  ports: number[];
  /** Server processes to sample (CPU %, RSS). */
  serverPids: number[];
  /** When set, every connection carries a fresh HS256 JWT (`sub`, `exp`) signed with it. */
  jwtSecret?: string;
  /** Fan-out: receivers in the room, messages in flight, every Nth message a ChatMessage (0: none). */
  receivers?: number;
  window?: number;
  chatEvery?: number;
  /** Our server: clients ask for acknowledged delivery (`?ack=1`), so reliable messages go through the room log. */
  ack?: boolean;
  /** Fan-out flow control: a message stops counting as in flight at the first receiver (default) or at all. */
  flow?: "first" | "all";
  /** Fan-out: send only when at least this many window slots are free (default window/8). */
  minBatch?: number;
  /** Position: clients, rooms, messages per second per client. */
  clients?: number;
  rooms?: number;
  hz?: number;
  /** Idle / storm: connections, rooms, handshakes outstanding at once. */
  conns?: number;
  concurrency?: number;
  warmupMs?: number;
  measureMs?: number;
  /** Position: wait after the last send for late deliveries. Idle: wait before reading RSS. */
  drainMs?: number;
  settleMs?: number;
  /** The process exits with an error result after this long. */
  deadlineMs?: number;
}

/** One load-generator run's figures (fields absent when not applicable). */
export interface LoadResult {
  ok: boolean;
  error?: string;
  /** Connections that failed to open, and the first reason. */
  connect_failures?: number;
  /** Position: how many clients sent (a runtime's count when the scenario is sized per runtime). */
  clients?: number;
  connect_ms?: number;
  sent?: number;
  sent_per_s?: number;
  delivered?: number;
  delivered_per_s?: number;
  /** Fan-out: delivered msg/s per server core busy (msg per server CPU-second). */
  delivered_per_cpu_s?: number;
  expected?: number;
  delivered_ratio?: number;
  lost?: number;
  p50_ms?: number;
  p99_ms?: number;
  p999_ms?: number;
  max_ms?: number;
  server_errors?: number;
  closed_by_server?: number;
  server_cpu_pct?: number;
  /** The kernel's share of server_cpu_pct (system calls, TCP). */
  server_sys_pct?: number;
  server_rss_kib?: number;
  rss_before_kib?: number;
  rss_after_kib?: number;
  rss_per_conn_kib?: number;
  conns?: number;
  accept_s?: number;
  conn_per_s?: number;
  handshake_p50_ms?: number;
  handshake_p99_ms?: number;
  loadgen_cpu_pct?: number;
  loadgen_sys_pct?: number;
  /** CPU % (of one core) used by everything else on the machine during the window. */
  foreign_cpu_pct?: number;
  measure_s?: number;
}
