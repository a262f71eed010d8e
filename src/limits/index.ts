/**
 * Rate limits: per connection (sliding window with strikes), per instance (fair-share global
 * budget) and per IP (connection attempts). Pure and clock-injected; the hub and the HTTP app
 * wire them in.
 *
 * Typical use, per inbound message (one {@link LimiterState} per connection):
 * ```ts
 * let d = messages.check(conn.rate, now);
 * if (d === Decision.Accept) d = global.check(conn.rate, now);
 * if (d === Decision.Notify) sendError(conn, "RATE_LIMITED", { retry_after_ms: … });
 * else if (d === Decision.Close) conn.close(CloseCode.RATE_LIMITED, "rate limited");
 * if (d !== Decision.Accept) return;
 * ```
 * where `retry_after_ms` is `messages.retryAfterMs(conn.rate, now)` when the per-connection
 * limiter dropped the message and `global.retryAfterMs(now)` when the global one did.
 * @module
 */
export { Decision, LimiterState, type Now } from "./state.ts";
export { MessageLimiter, type SlidingWindowOptions } from "./message.ts";
export { GlobalLimiter, type GlobalLimitOptions } from "./global.ts";
export { ConnectLimiter, type ConnectLimitOptions, type ConnectResult } from "./connect.ts";
