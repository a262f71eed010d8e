/**
 * The path of every frame a client sends: size limit, rate limits, decoding, the server-owned
 * fields cleared, metrics, then the message's handler (or a verbatim relay for untyped text).
 * Frames of a connection still waiting for its authentication or its join wait, in order.
 * @module
 */
import type { Config } from "../config.ts";
import { CloseCode, ErrorCode } from "../errors.ts";
import type { GlobalLimiter, MessageLimiter } from "../limits/index.ts";
import { Decision, periodOf, type LimiterState } from "../limits/state.ts";
import { frameLength } from "../lib/bytes.ts";
import type { Clock } from "../lib/clock.ts";
import type { Frame } from "../lib/transport.ts";
import { INVALID_SLOT, RAW_SLOT, slotOf, type Metrics } from "../observability/metrics.ts";
import { parseBinary, parseText } from "../protocol/codec.ts";
import { sanitizeInbound } from "../protocol/sanitize.ts";
import { MessageType, type Envelope, type Format } from "../protocol/types.ts";
import type { Broadcaster } from "./broadcast.ts";
import type { Connection } from "./connection.ts";
import type { FirstAuth } from "./first-auth.ts";
import type { Room } from "./room.ts";
import type { HandlerServices, Router } from "./router.ts";

// A client timestamp further off than this is a wrong clock, not a message age.
const MAX_AGE_MS = 60_000;
/** Frames a connection may send while its join waits for the cluster; more is abuse. */
const MAX_EARLY = 64;

/** The messages that go through the room log (their senders track an outcome). */
const RELIABLE_PAYLOADS = new Set<Envelope["payload"]>(["chat_message", "entity_spawn", "entity_update", "entity_despawn", "presence_event", "object_grab", "object_release", "emoji_reaction", "moderation"]);

/** What {@link Inbound} needs. */
export interface InboundOptions {
  config: Config;
  clock: Clock;
  metrics: Metrics;
  limits: { messages: MessageLimiter; global: GlobalLimiter };
  router: Router;
  out: Broadcaster;
  services: HandlerServices;
  firstAuth: FirstAuth;
  /** A JSON connection whose first frame is an xr frame becomes xr (core/xr-format.ts). */
  becomeXr(conn: Connection): void;
}

/** Handles every frame clients send. Never throws. */
export class Inbound {
  constructor(readonly opts: InboundOptions) {}

  /** A frame from `conn`, whatever state it is in. */
  message(conn: Connection, frame: Frame): void {
    if (conn.pending) return this.opts.firstAuth.message(conn, frame);
    if (conn.early) {
      if (conn.early.push(frame) > MAX_EARLY) this.opts.out.closeWith(conn, CloseCode.POLICY, ErrorCode.DISCONNECT, "Too many messages before the join completed");
      return;
    }
    this.frame(conn, frame);
  }

  /** A frame (or a deferred step) that waited for the join, now that it completed. */
  handleEarly(conn: Connection, item: Frame | (() => void)): void {
    if (typeof item === "function") item();
    else this.frame(conn, item);
  }

  /** Hands a decoded message to its handler. */
  route(conn: Connection, msg: Envelope, inFormat: Format, ref: string, now = this.opts.clock.now()): void {
    const { router, out, services } = this.opts;
    router.dispatch({ conn, room: conn.room as Room, now, inFormat, ref, out, services }, msg);
  }

  /** One frame of a joined connection. */
  frame(conn: Connection, frame: Frame): void {
    const { config, metrics: m, out } = this.opts;
    const t0 = performance.now();
    const bytes = frameLength(frame);
    let format = typeof frame === "string" ? 0 : 1; // metrics column: 0 text, 1 protobuf, 2 xr
    const first = conn.rate === undefined; // the rate state is made on a connection's first frame
    if (bytes > config.maxMessageBytes) {
      return out.closeWith(conn, CloseCode.TOO_BIG, ErrorCode.MESSAGE_TOO_BIG, `Frame of ${bytes} bytes exceeds MAX_MESSAGE_BYTES (${config.maxMessageBytes})`);
    }
    const room = conn.room;
    const now = this.opts.clock.now();
    m.messagesReceived++;
    m.bytesReceived += bytes;
    room.messagesIn++;
    room.bytesIn += bytes;
    room.lastActivity = now;
    if (!this.#admitRate(conn, now, frame)) return;

    let msg: Envelope;
    let ref = "";
    if (typeof frame === "string") {
      const parsed = parseText(frame);
      if (parsed.kind === "raw") {
        m.received(RAW_SLOT, format, bytes);
        out.raw(conn, frame);
        return m.recordFanout(performance.now() - t0, now);
      }
      if (parsed.kind === "bad") {
        m.received(INVALID_SLOT, format, bytes);
        return out.error(conn, ErrorCode.BAD_MESSAGE, parsed.error.message, parsed.ref);
      }
      msg = parsed.msg;
    } else {
      const parsed = parseBinary(frame);
      if ("error" in parsed) {
        m.received(INVALID_SLOT, format, bytes);
        return out.error(conn, ErrorCode.BAD_MESSAGE, parsed.error.message, parsed.ref);
      }
      msg = parsed.msg;
      // An xr frame has no protobuf bytes to stamp; it may settle the connection's format.
      if (parsed.xr) format = 2;
      else msg.raw = frame;
    }
    if (first && format === 2 && conn.format === "json") this.opts.becomeXr(conn);
    m.received(slotOf(msg.type), format, bytes);
    if (msg.timestamp && msg.timestamp > 0) {
      const age = now - msg.timestamp;
      if (age >= 0 && age < MAX_AGE_MS) m.messageAge.record(age);
    }
    ref = sanitizeInbound(msg);
    const sentBefore = m.messagesSent;
    // An xr connection gets its replies (PONG) as xr whatever the frame was (its pings are JSON text).
    this.route(conn, msg, format === 2 || conn.format === "xr" ? "xr" : format === 0 ? "json" : "protobuf", ref, now);
    if (m.messagesSent !== sentBefore) m.recordFanout(performance.now() - t0, now);
  }

  /** The per-connection and global message limits. Returns whether the frame may go on. */
  #admitRate(conn: Connection, now: number, frame: Frame): boolean {
    const { limits, metrics: m, out, config } = this.opts;
    const rate = (conn.rate ??= limits.messages.newState());
    let d = limits.messages.check(rate, now);
    let byGlobal = false;
    if (d === Decision.Accept) {
      d = limits.global.check(rate, now);
      byGlobal = true;
    }
    if (d === Decision.Accept) return true;
    if (byGlobal) m.rateLimited.global++;
    else m.rateLimited.connection++;
    if (d === Decision.Close) {
      m.rateLimited.closes++;
      out.closeWith(conn, CloseCode.RATE_LIMITED, ErrorCode.RATE_LIMITED, `Over the rate limit for ${config.rateLimitStrikes} windows in a row`);
      return false;
    }
    const ref = conn.reliable ? this.#nameDrop(conn, rate, frame, now) : undefined;
    if (d === Decision.Notify || ref) {
      const retry = byGlobal ? limits.global.retryAfterMs(now) : limits.messages.retryAfterMs(rate, now);
      const what = byGlobal ? "This server is over its message budget" : `Over ${config.rateLimitMessages} messages per ${config.rateLimitWindowMs} ms`;
      const text = `${what}; messages are dropped for ${retry} ms`;
      if (d === Decision.Notify) out.error(conn, ErrorCode.RATE_LIMITED, text, ref, { retry_after_ms: retry });
      else out.send(conn, { type: MessageType.ERROR, payload: "error", error: { code: ErrorCode.RATE_LIMITED, message: text, ref_message_id: ref, retry_after_ms: retry } });
    }
    return false;
  }

  /**
   * The message id of a dropped reliable message of an acknowledging client, so that its sender
   * learns this message's outcome — at most RATE_LIMIT_MESSAGES named per window (the errors
   * never outnumber what the client may send); undefined for anything else.
   */
  #nameDrop(conn: Connection, rate: LimiterState, frame: Frame, now: number): string | undefined {
    const window = periodOf(now, this.opts.config.rateLimitWindowMs);
    if (rate.namedWindow !== window) (rate.namedWindow = window), (rate.named = 0);
    if (rate.named >= this.opts.config.rateLimitMessages) return undefined;
    const parsed = typeof frame === "string" ? parseText(frame) : parseBinary(frame);
    const msg = "msg" in parsed ? parsed.msg : undefined;
    if (!msg?.message_id || !msg.payload || !RELIABLE_PAYLOADS.has(msg.payload)) return undefined;
    rate.named++;
    return msg.message_id;
  }
}
