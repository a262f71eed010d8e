/**
 * Close codes and error codes as data. `docs/close-codes.md` is the one table users read; a
 * test checks that every entry here is in it. Ranges: 4000–4099 reconnect now, 4100–4199
 * reconnect with backoff, 4400–4499 do not reconnect.
 * @module
 */

/** What a client should do after a close. */
export type ReconnectAdvice = "now" | "backoff" | "never";

/** WebSocket close codes the server uses. */
export const CloseCode = {
  /** Normal closure (client's deliberate close ends a resumable session). */
  NORMAL: 1000,
  /** Server shutting down or draining; reconnect (with jitter) elsewhere. */
  GOING_AWAY: 1001,
  /** Policy violation at protocol level. */
  POLICY: 1008,
  /** A frame larger than MAX_MESSAGE_BYTES. */
  TOO_BIG: 1009,
  /** Unexpected server error. */
  INTERNAL: 1011,
  /** This session was taken over by a newer connection that resumed it. */
  SESSION_REPLACED: 4000,
  /** Over the message rate limit for RATE_LIMIT_STRIKES windows in a row. */
  RATE_LIMITED: 4100,
  /** Send queue passed SLOW_CONSUMER_HARD_BYTES. */
  SLOW_CONSUMER: 4101,
  /** No pong within PONG_TIMEOUT_MS. */
  NO_PONG: 4102,
  /** The token expired and no REFRESH arrived in time. */
  TOKEN_EXPIRED: 4103,
  /** Reliable messages stayed unacknowledged after MAX_RETRIES resends. */
  UNRESPONSIVE: 4104,
  /** The server is over capacity; try later. */
  OVERLOADED: 4105,
  /** Token missing, invalid or expired at first-message auth. */
  UNAUTHORIZED: 4401,
  /** The token does not allow this room, or a REFRESH named another user. */
  FORBIDDEN: 4403,
  /** No authenticating first message within AUTH_TIMEOUT_MS. */
  AUTH_TIMEOUT: 4408,
  /** Another user holds this client id in the room. */
  CLIENT_ID_CONFLICT: 4409,
  /** A newer connection of the same user took this client id over. */
  REPLACED: 4410,
  /** Repeated abuse (e.g. a flood of malformed frames). */
  ABUSE: 4429,
  /** Kicked by a moderator (POST /moderation/kick); the client id may not rejoin the room for 60 s. */
  KICKED: 4430,
} as const;

/** The reconnect advice of a close code (the client SDK follows it). */
export function reconnectAdvice(code: number): ReconnectAdvice {
  if (code === CloseCode.NORMAL) return "never";
  if (code >= 4400 && code <= 4499) return "never";
  if (code >= 4000 && code <= 4099) return "now";
  return "backoff";
}

/** Error codes carried by `Error` messages (JSON `{"type":"ERROR","code":…}`). */
export const ErrorCode = {
  /** The frame is not a valid message: bad protobuf, bad JSON fields, or payload ≠ type. */
  BAD_MESSAGE: "BAD_MESSAGE",
  /** The message is valid but not allowed (e.g. moving another client's entity). */
  FORBIDDEN: "FORBIDDEN",
  /** The message names an entity or client that does not exist in the room. */
  NOT_FOUND: "NOT_FOUND",
  /** An entity with that id already exists. */
  CONFLICT: "CONFLICT",
  /** A per-room limit (e.g. MAX_ENTITIES_PER_ROOM) was reached. */
  LIMIT_EXCEEDED: "LIMIT_EXCEEDED",
  /** Over a rate limit; `retry_after_ms` says when to resume. */
  RATE_LIMITED: "RATE_LIMITED",
  /** Authentication failed (bad, expired or missing token). */
  UNAUTHORIZED: "UNAUTHORIZED",
  /** The frame was larger than MAX_MESSAGE_BYTES; the connection is closed with 1009. */
  MESSAGE_TOO_BIG: "MESSAGE_TOO_BIG",
  /** The server is closing this connection; `close_code` says why. */
  DISCONNECT: "DISCONNECT",
  /**
   * A reliable message could not be put in the room log in time (the cluster backend stayed
   * unreachable for OUTBOX_TIMEOUT_MS): it reached nobody; `ref_message_id` names it — resend it.
   */
  NOT_DELIVERED: "NOT_DELIVERED",
} as const;
/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
