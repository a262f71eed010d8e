import type { Hub } from "./hub.ts";
import type { Format, Room } from "./room.ts";
import type { SendQueue } from "../delivery/queue.ts";
import type { Session } from "../delivery/sessions.ts";
import type { LimiterState } from "../limits/state.ts";
import { frameLength } from "./bytes.ts";
import { SendResult, type ConnectionHandle, type Frame, type Transport } from "./transport.ts";

/** Who a connection is, as settled before the upgrade. */
export interface Identity {
  roomId: string;
  /** The authenticated (or, in development mode, claimed) user; `null` when anonymous. */
  userId: string | null;
  clientId: string;
  format: Format;
  /** Shown to the others in presence events; optional. */
  displayName?: string;
  /** No token came with the upgrade: the first message must authenticate (AUTH_TIMEOUT_MS). */
  pendingAuth?: boolean;
  /** The token's expiry (unix seconds); the connection closes then unless refreshed. */
  tokenExp?: number;
  /** The `client_id` query parameter, when one was given (checked against a later token). */
  claimedClientId?: string;
  /** Acknowledged delivery (`?ack=1` or `ClientHello.reliable`). */
  reliable?: boolean;
  /** `?resume=<session_id>&last_seq=<n>[&epoch=<e>]`. */
  resume?: { sessionId: string; lastSeq: number; epoch?: number };
}

/**
 * One client connection. It is the {@link ConnectionHandle} the adapter calls, so the adapter
 * keeps exactly one object per socket and no wrapper is made per event.
 */
export class Connection implements ConnectionHandle {
  // Settled at open, or — for first-message auth — when the token has been checked.
  userId: string | null;
  clientId: string;
  /** The room; a pending connection holds a detached room until it is admitted. */
  room: Room;
  /** Settled at upgrade; a JSON connection whose first frame is an xr frame becomes xr (compat, core/xr-format.ts). */
  format: Format;
  /** Waiting for its authenticating first message; sees and sends nothing else. */
  pending: boolean;
  /** The token's expiry (unix seconds), 0 when none. */
  tokenExp: number;
  // Fields most connections never set are `declare`d: they take no slot until used, which keeps
  // an idle connection small (memory per connection is a product target).
  declare displayName?: string;
  /** The client id the URL asked for (first-message auth checks it against the token). */
  declare claimedClientId?: string;
  /** Acknowledged delivery: ACKs expected, resends, a resumable session. */
  reliable: boolean;
  declare resume?: Identity["resume"];
  declare session?: Session;
  /** Set when a newer connection resumed this one's session. */
  declare replacedBy?: string;
  // Reliable connections only (set by Acks when they join):
  /** Highest acknowledged seq (of `ackEpoch`). */
  declare acked: number;
  declare ackEpoch: number;
  /** Resends so far for the current unacknowledged run, and when the next is due (0: none). */
  declare retries: number;
  declare nextRetryAt: number;
  /** Frames that arrived while the join waited for the cluster (handled right after it). */
  declare early?: Frame[];
  /** The send queue while this connection is slow (see Delivery). */
  declare queue?: SendQueue;
  /** Rate-limit state (per connection and its share of the global budget); made on the first message. */
  declare rate?: LimiterState;
  /** Set once the socket has closed; nothing is sent after that. */
  isClosed = false;
  /** When the outstanding ping was sent (0: none outstanding). */
  pingSentAt = 0;
  /** When the last pong arrived (or the connection opened). */
  lastPongAt: number;
  /** First-message auth: close unless authenticated by then (unset: not pending). */
  declare authDeadline?: number;

  constructor(
    readonly hub: Hub,
    readonly id: string,
    room: Room,
    identity: Identity,
    readonly transport: Transport,
    readonly connectedAt: number,
  ) {
    this.lastPongAt = connectedAt;
    this.room = room;
    this.pending = identity.pendingAuth === true;
    this.tokenExp = identity.tokenExp ?? 0;
    if (identity.displayName !== undefined) this.displayName = identity.displayName;
    if (identity.claimedClientId !== undefined) this.claimedClientId = identity.claimedClientId;
    this.reliable = identity.reliable === true;
    if (identity.resume) this.resume = identity.resume;
    this.userId = identity.userId;
    this.clientId = identity.clientId;
    this.format = identity.format;
  }

  message(data: Frame): void {
    if (this.isClosed) return;
    if (this.pending) this.hub.firstAuth.message(this, data);
    else if (this.early) {
      if (this.early.push(data) > 64) this.hub.closeWith(this, 1008, "DISCONNECT", "Too many messages before the join completed");
    } else this.hub.inbound(this, data);
  }

  drain(): void {
    if (this.queue) this.hub.delivery.flush(this);
  }

  pong(): void {
    const now = this.hub.clock.now();
    if (this.pingSentAt) this.hub.metrics.recordRoundTrip(now - this.pingSentAt);
    this.pingSentAt = 0;
    this.lastPongAt = now;
  }

  closed(code: number, reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.hub.leave(this, code, reason);
  }

  /** Sends one frame to this connection alone; returns its byte length, or 0 if not sent. */
  send(frame: Frame): number {
    if (this.isClosed || this.transport.send(frame) === SendResult.Dropped) return 0;
    return frameLength(frame);
  }

  /** Closes from the server side; {@link closed} follows when the runtime reports it. */
  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.transport.close(code, reason);
    // The server's decision is final: leave the room now rather than when the runtime reports
    // the close, which for a peer that stopped reading can take its whole close timeout.
    this.closed(code, reason);
  }
}
