/** Reconnect delays: exponential backoff with full jitter. @module */

/** Backoff settings. */
export interface BackoffOptions {
  /** First delay before jitter. @default 250 */
  initialMs?: number;
  /** Largest delay before jitter. @default 10000 */
  maxMs?: number;
  /** Growth per attempt. @default 2 */
  factor?: number;
}

/**
 * The delay before reconnect attempt `attempt` (0-based): a random value in
 * [base/2, base] where base = min(maxMs, initialMs · factor^attempt), so a crowd of clients
 * dropped together does not come back together.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialMs = 250, maxMs = 10_000, factor = 2 } = opts;
  const base = Math.min(maxMs, initialMs * factor ** attempt);
  return Math.round(base / 2 + (random() * base) / 2);
}
