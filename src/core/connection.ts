/**
 * One client connection: the handle the adapter calls for its socket's events, and the
 * recipient delivery sends to. It keeps who the client is, where it stands in its room's
 * reliable sequence, and its limiter state — nothing else (memory per idle connection is a
 * product target).
 * @module
 */
import type { FrameMeta } from "../delivery/frames.ts";
import type { RoomChannel } from "../delivery/recipient.ts";
import type { Recipient } from "../delivery/recipient.ts";
import type { LimiterState } from "../limits/state.ts";
import { frameLength } from "../lib/bytes.ts";
import type { SendQueue } from "../lib/send-queue.ts";
import { SendResult, type ConnectionHandle, type Frame, type Transport } from "../lib/transport.ts";
import type { Format } from "../protocol/types.ts";
import type { Reservation } from "./capacity.ts";
import type { View } from "./interest/view.ts";

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
  /** Position updates as one POSE_BATCH per room tick (`?batch=1` or `ClientHello.batch`). */
  batch?: boolean;
  /** The place admission reserved for this connection (released once it joins, fails or closes). */
  slot?: Reservation;
}

/** What a connection's socket events go to (the server's inbound side). */
export interface ConnectionEvents {
  message(conn: Connection, data: Frame): void;
  drain(conn: Connection): void;
  pong(conn: Connection): void;
  closed(conn: Connection, code: number, reason: string): void;
}

/**
 * One client connection. It is the {@link ConnectionHandle} the adapter calls, so the adapter
 * keeps exactly one object per socket and no wrapper is made per event.
 */
export class Connection implements ConnectionHandle, Recipient {
  // Settled at open, or — for first-message auth — when the token has been checked.
  userId: string | null;
  clientId: string;
  /** The room (a pending connection holds a detached room until it is admitted). */
  room: RoomChannel;
  /** Settled at upgrade; a JSON connection whose first frame is an xr frame becomes xr (core/xr-format.ts). */
  format: Format;
  /** Waiting for its authenticating first message; sees and sends nothing else. */
  pending: boolean;
  /** The token's expiry (unix seconds), 0 when none. */
  tokenExp: number;
  /** Acknowledged delivery: ACKs expected, resends, a resumable session. */
  reliable: boolean;
  /** Set once the socket has closed; nothing is sent after that. */
  isClosed = false;
  /** Set once the connection is a member of its room (joined, hello sent). */
  joined = false;
  /** When the outstanding ping was sent (0: none outstanding). */
  pingSentAt = 0;
  /** When the last pong arrived (or the connection opened). */
  lastPongAt: number;
  // Fields most connections never set are `declare`d: they take no slot until used.
  declare displayName?: string;
  declare claimedClientId?: string;
  declare resume?: Identity["resume"];
  /** The session id of a reliable connection (its holder token). */
  declare session?: string;
  declare acked: number;
  declare ackEpoch: number;
  declare retries: number;
  declare nextRetryAt: number;
  /** Frames that arrived while the join waited for the cluster (handled right after it). */
  declare early?: (Frame | (() => void))[];
  declare queue?: SendQueue;
  declare rate?: LimiterState;
  /** First-message auth: close unless authenticated by then. */
  declare authDeadline?: number;
  declare slot?: Reservation;
  /** Takes POSE_BATCH frames (docs/protocol.md, "Batches and interest"). */
  declare batch?: boolean;
  /** Entities this client follows (FOLLOW): sent every tick in batch mode. */
  declare follows?: Set<string>;
  /** Batch mode: what this client was last sent (core/interest/). */
  declare view?: View;
  /** The routing facts of this connection's unreliable broadcasts, made on the first (core/broadcast.ts). */
  declare unreliableMeta?: FrameMeta;

  constructor(
    readonly events: ConnectionEvents,
    readonly id: string,
    room: RoomChannel,
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
    if (identity.resume) this.resume = identity.resume;
    if (identity.slot) this.slot = identity.slot;
    if (identity.batch) this.batch = true;
    this.reliable = identity.reliable === true;
    this.userId = identity.userId;
    this.clientId = identity.clientId;
    this.format = identity.format;
  }

  /** Gives back the place admission reserved (once joined, failed or closed) and forgets it, so it does not live as long as the connection. */
  releaseSlot(): void {
    const slot = this.slot;
    if (slot) (this.slot = undefined), slot.release();
  }

  /** The holder token of this connection's client id: its session, or itself. */
  get token(): string {
    return this.session ?? this.id;
  }

  message(data: Frame): void {
    if (!this.isClosed) this.events.message(this, data);
  }

  drain(): void {
    if (this.queue) this.events.drain(this);
  }

  pong(): void {
    this.events.pong(this);
  }

  closed(code: number, reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.events.closed(this, code, reason);
  }

  /** Sends one frame to this connection alone; returns its byte length, or 0 if not sent. */
  send(frame: Frame): number {
    if (this.isClosed || this.transport.send(frame) === SendResult.Dropped) return 0;
    return frameLength(frame);
  }

  /** Closes from the server side; the room sees it go at once. */
  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.transport.close(code, reason);
    // The server's decision is final: leave the room now rather than when the runtime reports
    // the close, which for a peer that stopped reading can take its whole close timeout.
    this.closed(code, reason);
  }
}
