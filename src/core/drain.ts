/**
 * Graceful drain (SIGTERM/SIGINT): readiness turns 503 and new upgrades are refused at once;
 * clients are closed in batches (DRAIN_BATCH per 100 ms) with 1001 "going away" — each after
 * an ERROR frame saying so (as before every server-side close), and only once its send queue
 * and its socket's buffer are empty, so queued reliable messages go out first — until none is
 * left or DRAIN_TIMEOUT_MS has passed.
 * @module
 */
import type { Delivery } from "../delivery/deliver.ts";
import { CloseCode, ErrorCode } from "../errors.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../log.ts";
import type { Broadcaster } from "./broadcast.ts";
import type { Connection } from "./connection.ts";

/** What a drain needs. */
export interface DrainOptions {
  connections: Set<Connection>;
  delivery: Delivery;
  out: Broadcaster;
  clock: Clock;
  logger: Logger;
  /** DRAIN_BATCH, DRAIN_TIMEOUT_MS. */
  batch: number;
  timeoutMs: number;
  /** Marks the server draining (readiness 503, upgrades refused). */
  start(): void;
}

/** Drains the server; resolves with whether every connection closed in time. */
export async function drain(o: DrainOptions, sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Promise<boolean> {
  const { connections, clock, logger } = o;
  o.start();
  const deadline = clock.now() + o.timeoutMs;
  const told = new Set<Connection>();
  const close = (conn: Connection) => {
    told.add(conn);
    o.out.closeWith(conn, CloseCode.GOING_AWAY, ErrorCode.DISCONNECT, "Server shutting down; reconnect to another instance");
  };
  logger.info("drain_start", { connections: connections.size });
  while (connections.size > 0 && clock.now() < deadline) {
    let n = 0;
    for (const conn of connections) {
      if (n >= o.batch) break;
      if (told.has(conn)) continue;
      o.delivery.flush(conn);
      // Closing now would drop what is still queued (and, on Bun, what the socket still
      // buffers when the process exits): wait until the client has taken it.
      if ((conn.queue?.length ?? 0) > 0 || conn.transport.bufferedAmount() > 0) continue;
      n++;
      close(conn);
    }
    await sleep(100);
  }
  // Out of time: whoever is left is told anyway.
  for (const conn of connections) if (!told.has(conn)) close(conn);
  const clean = connections.size === 0;
  logger.info("drain_end", { clean, remaining: connections.size });
  return clean;
}
