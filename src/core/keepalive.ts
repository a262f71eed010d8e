/**
 * Server-side keepalive: each connection is pinged every PING_INTERVAL_MS and closed with
 * 4102 when no pong came back within PONG_TIMEOUT_MS. The same sweep closes connections whose
 * token expired (4103) or whose first-message auth timed out (4408). One sweep a second walks the
 * connections (O(n), no timer per connection). Runtimes whose sockets cannot send pings from
 * JavaScript (Deno) rely on the runtime's own idle timeout instead.
 * @module
 */
import { CloseCode } from "../errors.ts";
import type { TimerHandle } from "./clock.ts";
import type { Hub } from "./hub.ts";

/** How often slow consumers are checked and reliable resends considered. */
export const DELIVERY_SWEEP_MS = 100;

/** Runs the ping/pong sweep and the delivery sweep of a hub. */
export class Keepalive {
  #timers: TimerHandle[] = [];
  constructor(readonly hub: Hub) {}

  start(): void {
    const every = Math.min(1000, Math.floor(this.hub.config.pongTimeoutMs / 2));
    this.#timers.push(this.hub.clock.setInterval(() => this.sweep(), every));
    this.#timers.push(this.hub.clock.setInterval(() => this.deliverySweep(), DELIVERY_SWEEP_MS));
  }

  stop(): void {
    for (const t of this.#timers) this.hub.clock.clearInterval(t);
    this.#timers = [];
  }

  /** Slow consumers (flush, demote, close), then resends and session expiry. */
  deliverySweep(): void {
    const { hub } = this;
    for (const conn of hub.connections) if (!conn.pending && !conn.isClosed) hub.delivery.checkBuffers(conn);
    const now = hub.clock.now();
    hub.acks.sweep(now);
    hub.link.flush(now);
  }

  /** One pass: close the silent, ping the due. */
  sweep(): void {
    const { hub } = this;
    const now = hub.clock.now();
    const { pingIntervalMs, pongTimeoutMs } = hub.config;
    const leewayMs = hub.auth.leewaySec * 1000;
    for (const conn of hub.connections) {
      if (conn.tokenExp && now >= conn.tokenExp * 1000 + leewayMs) {
        hub.closeWith(conn, CloseCode.TOKEN_EXPIRED, "UNAUTHORIZED", "Token expired; reconnect with a fresh token or send REFRESH before expiry");
        continue;
      }
      if (conn.authDeadline && now >= conn.authDeadline) {
        hub.closeWith(conn, CloseCode.AUTH_TIMEOUT, "UNAUTHORIZED", "No authenticating message in time");
        continue;
      }
      if (conn.pingSentAt) {
        if (now - conn.pingSentAt >= pongTimeoutMs) hub.closeWith(conn, CloseCode.NO_PONG, "DISCONNECT", `No pong within ${pongTimeoutMs} ms`);
        continue;
      }
      if (now - conn.lastPongAt >= pingIntervalMs && conn.transport.ping) {
        conn.pingSentAt = now;
        conn.transport.ping();
      }
    }
  }
}
