/**
 * The server's sweeps, one timer each (no timer per connection):
 * - keepalive: each connection is pinged every PING_INTERVAL_MS and closed with 4102 when no
 *   pong came back within PONG_TIMEOUT_MS; the same pass closes connections whose token expired
 *   (4103) or whose first-message auth timed out (4408). Every adapter can ping (Deno runs
 *   the Node host); a transport without `ping` is never pinged. Rooms nobody joined since the
 *   last pass drop their players' cached hello pieces (core/hello-state.ts).
 * - delivery, every {@link DELIVERY_SWEEP_MS}: slow consumers (flush, demote, close), resends,
 *   the outbox, detached holds whose window closed, and pose writes to the cluster.
 * @module
 */
import type { Acks } from "../delivery/acks.ts";
import type { Delivery } from "../delivery/deliver.ts";
import type { Sequencer } from "../delivery/sequencer.ts";
import { CloseCode, ErrorCode } from "../errors.ts";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { Broadcaster } from "./broadcast.ts";
import type { Connection } from "./connection.ts";
import type { Replication } from "./replication.ts";
import type { Rooms } from "./rooms.ts";
import type { Sessions } from "./sessions.ts";

/** How often slow consumers are checked and reliable resends considered. */
export const DELIVERY_SWEEP_MS = 100;
/** A detached session's room stays open here this long past its window (its leave comes from whoever expires it). */
const GHOST_GRACE_MS = 5_000;

/** What the sweeps need. */
export interface KeepaliveOptions {
  connections: Iterable<Connection>;
  rooms: Rooms;
  clock: Clock;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  /** JWT leeway for token expiry, in ms. */
  leewayMs: number;
  out: Broadcaster;
  delivery: Delivery;
  acks: Acks;
  sequencer: Sequencer;
  sessions: Sessions;
  replication: Replication;
}

/** Runs the keepalive and delivery sweeps. */
export class Keepalive {
  #timers: TimerHandle[] = [];
  constructor(readonly opts: KeepaliveOptions) {}

  start(): void {
    const { clock, pongTimeoutMs } = this.opts;
    this.#timers.push(clock.setInterval(() => this.sweep(), Math.min(1000, Math.floor(pongTimeoutMs / 2))));
    this.#timers.push(clock.setInterval(() => this.deliverySweep(), DELIVERY_SWEEP_MS));
  }

  stop(): void {
    for (const t of this.#timers) this.opts.clock.clearInterval(t);
    this.#timers = [];
  }

  /** Slow consumers, resends, the outbox, expired holds, pose writes. */
  deliverySweep(): void {
    const o = this.opts;
    for (const conn of o.connections) if (conn.joined && !conn.isClosed) o.delivery.checkBuffers(conn);
    const now = o.clock.now();
    o.acks.sweep(now);
    o.sequencer.retry(now);
    o.sessions.expire(now);
    o.replication.flush(now);
    for (const room of o.rooms.values()) {
      if (room.ghosts.size === 0) continue;
      for (const [id, g] of room.ghosts) if (g.until + GHOST_GRACE_MS <= now) room.ghosts.delete(id);
      o.rooms.release(room);
    }
  }

  /** One pass: close the silent, ping the due; idle rooms drop their cached hello pieces. */
  sweep(): void {
    const { clock, pingIntervalMs, pongTimeoutMs, leewayMs, out } = this.opts;
    const now = clock.now();
    for (const room of this.opts.rooms.values()) room.world.idleHellos();
    for (const conn of this.opts.connections) {
      if (conn.tokenExp && now >= conn.tokenExp * 1000 + leewayMs) {
        out.closeWith(conn, CloseCode.TOKEN_EXPIRED, ErrorCode.UNAUTHORIZED, "Token expired; reconnect with a fresh token or send REFRESH before expiry");
        continue;
      }
      if (conn.authDeadline && now >= conn.authDeadline) {
        out.closeWith(conn, CloseCode.AUTH_TIMEOUT, ErrorCode.UNAUTHORIZED, "No authenticating message in time");
        continue;
      }
      if (conn.pingSentAt) {
        if (now - conn.pingSentAt >= pongTimeoutMs) out.closeWith(conn, CloseCode.NO_PONG, ErrorCode.DISCONNECT, `No pong within ${pongTimeoutMs} ms`);
        continue;
      }
      if (now - conn.lastPongAt >= pingIntervalMs && conn.transport.ping) {
        conn.pingSentAt = now;
        conn.transport.ping();
      }
    }
  }
}
