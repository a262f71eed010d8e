import type { Hub } from "./hub.ts";
import type { Format, Room } from "./room.ts";
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
}

/**
 * One client connection. It is the {@link ConnectionHandle} the adapter calls, so the adapter
 * keeps exactly one object per socket and no wrapper is made per event.
 */
export class Connection implements ConnectionHandle {
  readonly userId: string | null;
  readonly clientId: string;
  readonly format: Format;
  /** Set once the socket has closed; nothing is sent after that. */
  isClosed = false;
  /** When the outstanding ping was sent (0: none outstanding). */
  pingSentAt = 0;
  /** When the last pong arrived (or the connection opened). */
  lastPongAt: number;
  /** First-message auth: close unless authenticated by then (0: not pending). */
  authDeadline = 0;

  constructor(
    readonly hub: Hub,
    readonly id: string,
    readonly room: Room,
    identity: Identity,
    readonly transport: Transport,
    readonly connectedAt: number,
  ) {
    this.lastPongAt = connectedAt;
    this.userId = identity.userId;
    this.clientId = identity.clientId;
    this.format = identity.format;
  }

  message(data: Frame): void {
    if (!this.isClosed) this.hub.inbound(this, data);
  }

  drain(): void {}

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
    if (!this.isClosed) this.transport.close(code, reason);
  }
}
