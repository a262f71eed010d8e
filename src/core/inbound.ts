/**
 * The path of every frame a client sends: size limit, rate limits, decoding, metrics, then the
 * message's handler (or a verbatim relay for untyped text). Kept apart from the hub so the hot
 * path reads top to bottom.
 * @module
 */
import { CloseCode, ErrorCode } from "../errors.ts";
import { Decision } from "../limits/state.ts";
import { parseBinary, parseText } from "../protocol/codec.ts";
import type { Envelope } from "../protocol/types.ts";
import { frameLength } from "./bytes.ts";
import type { Connection } from "./connection.ts";
import type { Hub } from "./hub.ts";
import { INVALID_SLOT, RAW_SLOT, slotOf } from "./metrics.ts";
import { becomeXr } from "./xr-format.ts";
import type { Frame } from "./transport.ts";

// A client timestamp further off than this is a wrong clock, not a message age.
const MAX_AGE_MS = 60_000;

/** Handles one frame from `conn`. Never throws. */
export function inbound(hub: Hub, conn: Connection, frame: Frame): void {
  const t0 = performance.now();
  const bytes = frameLength(frame);
  let format = typeof frame === "string" ? 0 : 1; // metrics column: 0 text, 1 protobuf, 2 xr
  const first = conn.rate === undefined; // the rate state is made on a connection's first frame
  if (bytes > hub.config.maxMessageBytes) {
    return hub.closeWith(conn, CloseCode.TOO_BIG, ErrorCode.MESSAGE_TOO_BIG, `Frame of ${bytes} bytes exceeds MAX_MESSAGE_BYTES (${hub.config.maxMessageBytes})`);
  }
  const m = hub.metrics;
  const room = conn.room;
  const now = hub.clock.now();
  m.messagesReceived++;
  m.bytesReceived += bytes;
  room.messagesIn++;
  room.bytesIn += bytes;
  room.lastActivity = now;
  if (!admitRate(hub, conn, now)) return;

  let msg: Envelope;
  if (typeof frame === "string") {
    const parsed = parseText(frame);
    if (parsed.kind === "raw") {
      m.received(RAW_SLOT, format, bytes);
      hub.relayRaw(conn, frame);
      return m.recordFanout(performance.now() - t0, now);
    }
    if (parsed.kind === "bad") {
      m.received(INVALID_SLOT, format, bytes);
      return hub.sendError(conn, ErrorCode.BAD_MESSAGE, parsed.error.message, parsed.ref);
    }
    msg = parsed.msg;
  } else {
    const parsed = parseBinary(frame);
    if ("error" in parsed) {
      m.received(INVALID_SLOT, format, bytes);
      return hub.sendError(conn, ErrorCode.BAD_MESSAGE, parsed.error.message, parsed.ref);
    }
    msg = parsed.msg;
    // compat (issue 15): an xr frame has no protobuf bytes to stamp; it may settle the connection's format.
    if (parsed.xr) format = 2;
    else msg.raw = frame;
  }
  if (first && format === 2 && conn.format === "json") becomeXr(hub, conn);
  m.received(slotOf(msg.type), format, bytes);
  if (msg.timestamp && msg.timestamp > 0) {
    const age = now - msg.timestamp;
    if (age >= 0 && age < MAX_AGE_MS) m.messageAge.record(age);
  }
  const sentBefore = m.messagesSent;
  // An xr connection gets its replies (PONG) as xr whatever the frame was (its pings are JSON text).
  hub.route(conn, msg, format === 2 || conn.format === "xr" ? "xr" : format === 0 ? "json" : "protobuf", now);
  if (m.messagesSent !== sentBefore) m.recordFanout(performance.now() - t0, now);
}

/** The per-connection and global message limits. Returns whether the frame may go on. */
function admitRate(hub: Hub, conn: Connection, now: number): boolean {
  const { messages, global } = hub.limits;
  const rate = (conn.rate ??= messages.newState());
  let d = messages.check(rate, now);
  let byGlobal = false;
  if (d === Decision.Accept) {
    d = global.check(rate, now);
    byGlobal = true;
  }
  if (d === Decision.Accept) return true;
  const m = hub.metrics;
  if (byGlobal) m.rateLimited.global++;
  else m.rateLimited.connection++;
  if (d === Decision.Close) {
    m.rateLimited.closes++;
    hub.closeWith(conn, CloseCode.RATE_LIMITED, ErrorCode.RATE_LIMITED, `Over the rate limit for ${hub.config.rateLimitStrikes} windows in a row`);
  } else if (d === Decision.Notify) {
    const retry = byGlobal ? global.retryAfterMs(now) : messages.retryAfterMs(rate, now);
    const what = byGlobal ? "This server is over its message budget" : `Over ${hub.config.rateLimitMessages} messages per ${hub.config.rateLimitWindowMs} ms`;
    hub.sendError(conn, ErrorCode.RATE_LIMITED, `${what}; messages are dropped for ${retry} ms`, undefined, { retry_after_ms: retry });
  }
  return false;
}
