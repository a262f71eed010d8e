/**
 * Graceful drain (SIGTERM/SIGINT): readiness turns 503 and new upgrades are refused at once;
 * clients are closed in batches (DRAIN_BATCH per 100 ms) with 1001 "going away" — each
 * after whatever its send queue still holds, so queued reliable messages go out first (a close
 * frame leaves the socket after the data before it) — until none is left or DRAIN_TIMEOUT_MS
 * has passed.
 * @module
 */
import { CloseCode } from "../errors.ts";
import type { Hub } from "./hub.ts";

/** Drains the hub; resolves with whether every connection closed in time. */
export async function drain(hub: Hub, sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Promise<boolean> {
  const { drainBatch, drainTimeoutMs } = hub.config;
  hub.draining = true;
  const deadline = hub.clock.now() + drainTimeoutMs;
  const told = new Set<string>();
  hub.log.info("drain_start", { connections: hub.connections.size });
  while (hub.connections.size > 0 && hub.clock.now() < deadline) {
    let n = 0;
    for (const conn of hub.connections) {
      if (n >= drainBatch) break;
      if (told.has(conn.id)) continue;
      told.add(conn.id);
      n++;
      hub.delivery.flush(conn);
      conn.close(CloseCode.GOING_AWAY, "server shutting down");
    }
    await sleep(100);
  }
  const clean = hub.connections.size === 0;
  hub.log.info("drain_end", { clean, remaining: hub.connections.size });
  return clean;
}
