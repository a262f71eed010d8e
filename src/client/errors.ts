/** Errors the SDK itself throws or rejects with (the server's own errors arrive as `error` events). @module */
import type { ServerError } from "./events.ts";

/** Why an SDK call failed. Each code is listed in docs/client.md. */
export const ClientErrorCode = {
  /** A send or `connect()` after `close()`; call `connect()` again to reopen. */
  CLIENT_CLOSED: "CLIENT_CLOSED",
  /** More than `queueLimit` messages are waiting for the connection. */
  QUEUE_FULL: "QUEUE_FULL",
  /** The connection closed before its first SERVER_HELLO and will not be retried. */
  CONNECT_FAILED: "CONNECT_FAILED",
  /** No WebSocket implementation: no global `WebSocket`, no `options.WebSocket`, no `ws` package. */
  NO_WEBSOCKET: "NO_WEBSOCKET",
  /** `format: "protobuf"` was asked for but the protobuf codec could not be loaded. */
  CODEC_UNAVAILABLE: "CODEC_UNAVAILABLE",
  /** `outcome(id)`: the server refused the send (`serverError` says why, e.g. NOT_DELIVERED, CONFLICT). */
  REJECTED: "REJECTED",
  /** `outcome(id)`: the connection closed after the send went out and before the server answered; it may or may not be in the room. */
  OUTCOME_UNKNOWN: "OUTCOME_UNKNOWN",
  /** `outcome(id)`: the send was still queued when the client closed for good; it reached nobody. */
  NOT_SENT: "NOT_SENT",
  /** `outcome(id)`: no outcome is tracked for this id (not a reliable kind, `reliable` off, or settled long ago). */
  NO_OUTCOME: "NO_OUTCOME",
} as const;
/** One of the {@link ClientErrorCode} values. */
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** An error raised by the SDK, with a stable `code`. */
export class GraphwizError extends Error {
  override readonly name = "GraphwizError";
  /** The stable reason, one of {@link ClientErrorCode}. */
  readonly code: ClientErrorCode;
  /** For `CONNECT_FAILED`: the WebSocket close code. */
  readonly closeCode?: number;
  /** For `REJECTED`: the server's ERROR (its `code`: NOT_DELIVERED, CONFLICT, FORBIDDEN, …). */
  readonly serverError?: ServerError;
  constructor(code: ClientErrorCode, message: string, closeCode?: number, serverError?: ServerError) {
    super(message);
    this.code = code;
    if (closeCode !== undefined) this.closeCode = closeCode;
    if (serverError) this.serverError = serverError;
  }
}
