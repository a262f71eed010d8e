/**
 * Graceful drain (SIGTERM/SIGINT): readiness turns 503 and new upgrades are refused at once;
 * clients are closed in batches (DRAIN_BATCH per 100 ms) with 1001 "going away" — each only
 * once its send queue and its socket's buffer are empty, so queued reliable messages go out
 * first (a close frame leaves the socket after the data before it; a client still taking its
 * data is retried every 100 ms) — until none is left or DRAIN_TIMEOUT_MS has passed.
 * @module
 */
import { CloseCode } from "../errors.ts";
import type { Connection } from "./connection.ts";
import type { Hub } from "./hub.ts";

/** Drains the hub; resolves with whether every connection closed in time. */
export async function drain(hub: Hub, sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Promise<boolean> {
  const { drainBatch, drainTimeoutMs } = hub.config;
  hub.draining = true;
  const deadline = hub.clock.now() + drainTimeoutMs;
  const told = new Set<Connection>();
  const close = (conn: Connection) => {
    told.add(conn);
    conn.close(CloseCode.GOING_AWAY, "server shutting down");
  };
  hub.log.info("drain_start", { connections: hub.connections.size });
  while (hub.connections.size > 0 && hub.clock.now() < deadline) {
    let n = 0;
    for (const conn of hub.connections) {
      if (n >= drainBatch) break;
      if (told.has(conn)) continue;
      hub.delivery.flush(conn);
      // Closing now would drop what is still queued (and, on Bun, what the socket still
      // buffers when the process exits): wait until the client has taken it.
      if ((conn.queue?.length ?? 0) > 0 || conn.transport.bufferedAmount() > 0) continue;
      n++;
      close(conn);
    }
    await sleep(100);
  }
  // Out of time: whoever is left is told anyway.
  for (const conn of hub.connections) if (!told.has(conn)) close(conn);
  const clean = hub.connections.size === 0;
  hub.log.info("drain_end", { clean, remaining: hub.connections.size });
  return clean;
}
