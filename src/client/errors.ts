/** Errors the SDK itself throws or rejects with (the server's own errors arrive as `error` events). @module */

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
  constructor(code: ClientErrorCode, message: string, closeCode?: number) {
    super(message);
    this.code = code;
    if (closeCode !== undefined) this.closeCode = closeCode;
  }
}
