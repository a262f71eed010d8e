/**
 * Fan-out: who gets which frame, how, and what happens when they do not keep up.
 *
 * - Every broadcast is encoded once per format and published natively to the room's topics.
 * - A member whose socket buffer passes SLOW_CONSUMER_SOFT_BYTES leaves the topic for a send
 *   queue (position updates coalesced per entity), rejoins when drained, and is closed past
 *   SLOW_CONSUMER_HARD_BYTES.
 * @module
 */
import { frameLength } from "../lib/bytes.ts";
import { SendQueue } from "../lib/send-queue.ts";
import { SendResult, type Fanout, type Frame } from "../lib/transport.ts";
import { formatSlot, RAW_SLOT, slotOf, type Metrics } from "../observability/metrics.ts";
import { Outbound } from "../protocol/codec.ts";
import { FORMATS, type Format } from "../protocol/types.ts";
import type { FrameMeta } from "./frames.ts";
import type { Recipient, RoomChannel } from "./recipient.ts";

/** What is being delivered: a typed message (encoded lazily per format) or a frame as it is. */
export type Payload = Outbound | Frame;

/** The frame of `payload` for a recipient of `format`. */
const frameOf = (payload: Payload, format: Format): Frame => (payload instanceof Outbound ? payload.frame(format) : payload);

/** What {@link Delivery} needs. */
export interface DeliveryOptions {
  fanout: Fanout;
  metrics: Metrics;
  /** SLOW_CONSUMER_SOFT_BYTES. */
  softBytes: number;
  /** SLOW_CONSUMER_HARD_BYTES. */
  hardBytes: number;
  /** Closes a recipient whose queue passed the hard limit (4101). */
  tooSlow(r: Recipient): void;
}

/** Fan-out for one server. */
export class Delivery {
  constructor(readonly opts: DeliveryOptions) {}

  /**
   * Delivers to the room's members here: one native publish per format for the subscribed,
   * the send queue for the slow, and only the named client for `meta.only`.
   */
  deliver(ch: RoomChannel, payload: Payload, meta: FrameMeta, sender?: Recipient, key?: string): void {
    // The sender's client never gets its own message back: not from the log or another
    // instance, nor on the connection that replaced the one it was sent on.
    if (meta.sender) sender = ch.members.holder(meta.sender) ?? sender;
    if (meta.only) {
      for (const m of ch.members) if (m !== sender && m.clientId === meta.only) this.sendTo(m, payload, key);
      return;
    }
    const live = sender && !sender.isClosed && sender.room === ch && !sender.queue ? sender : undefined;
    const typed = payload instanceof Outbound;
    for (let i = 0; i < FORMATS.length; i++) {
      const format = FORMATS[i]!;
      // Untyped text never goes to xr members: their client cannot read it.
      if (!typed && format === "xr") continue;
      const n = ch.subscribed[format] - (live?.format === format ? 1 : 0);
      if (n <= 0) continue;
      const frame = frameOf(payload, format);
      this.opts.fanout.publish(ch.topics[format], frame, live?.transport);
      this.#count(ch, payload, frame, n, format);
    }
    // No iterator over an empty set: nobody is slow nearly always.
    if (ch.slow.size > 0) for (const m of ch.slow) if (m !== sender && (typed || m.format !== "xr")) this.#enqueue(m, payload, key);
  }

  #count(ch: RoomChannel, payload: Payload, frame: Frame, n: number, format: Format): void {
    const bytes = frameLength(frame);
    ch.messagesOut += n;
    ch.bytesOut += n * bytes;
    this.opts.metrics.sent(payload instanceof Outbound ? slotOf(payload.msg.type) : RAW_SLOT, formatSlot(format, frame), n, bytes);
  }

  /**
   * One recipient alone: straight to its socket, or to its queue while it is slow. `format`
   * overrides the recipient's (a PING is answered in the format it came in); `counted: false`
   * keeps the frame out of the message metrics (the SERVER_HELLO).
   */
  sendTo(r: Recipient, payload: Payload, key?: string, format: Format = r.format, counted = true): void {
    if (r.isClosed) return;
    if (r.queue) return this.#enqueue(r, payload, key, format);
    const frame = frameOf(payload, format);
    const res = r.transport.send(frame);
    if (res !== SendResult.Dropped && counted) this.#count(r.room, payload, frame, 1, format);
    if (res === SendResult.Queued && r.transport.bufferedAmount() > this.opts.softBytes) this.#slow(r);
  }

  /**
   * A latest-state frame (a POSE_BATCH, or a pose chosen by interest): sent unless the
   * recipient is backed up (queued, or past SLOW_CONSUMER_SOFT_BYTES) — then skipped, never
   * queued: its next frame carries the newest poses. Returns whether it was sent.
   */
  sendLatest(r: Recipient, frame: Frame, type: number): boolean {
    if (r.isClosed || r.queue || r.transport.bufferedAmount() > this.opts.softBytes) return false;
    if (r.transport.send(frame) === SendResult.Dropped) return false;
    const bytes = frameLength(frame);
    r.room.messagesOut++;
    r.room.bytesOut += bytes;
    this.opts.metrics.sent(slotOf(type), formatSlot(r.format, frame), 1, bytes);
    return true;
  }

  #enqueue(r: Recipient, payload: Payload, key?: string, format: Format = r.format): void {
    const q = r.queue!;
    // Voice is stale by the time a slow client could play it: not queued.
    if (payload instanceof Outbound && payload.msg.payload === "voice_data") return;
    const frame = frameOf(payload, format);
    const before = q.coalesced;
    q.push(frame, frameLength(frame), key);
    this.opts.metrics.delivery.coalesced += q.coalesced - before;
    if (q.bytes + r.transport.bufferedAmount() > this.opts.hardBytes) this.#tooSlow(r);
  }

  /** Takes `r` off its topic and serves it from a queue from now on (also used while it catches up). */
  hold(r: Recipient): void {
    if (r.queue || r.isClosed) return;
    r.queue = new SendQueue();
    r.room.slow.add(r);
  }

  #slow(r: Recipient): void {
    if (r.queue || r.isClosed) return;
    this.unsubscribe(r);
    this.hold(r);
  }

  #fast(r: Recipient): void {
    if (!r.queue) return;
    r.queue = undefined;
    r.room.slow.delete(r);
    this.subscribe(r);
  }

  #tooSlow(r: Recipient): void {
    this.opts.metrics.delivery.slow_consumer_closes++;
    this.opts.tooSlow(r);
  }

  /** Puts `r` on its format's topic. */
  subscribe(r: Recipient): void {
    this.opts.fanout.subscribe(r.transport, r.room.topics[r.format]);
    r.room.subscribed[r.format]++;
  }

  /** Takes `r` off its topic. */
  unsubscribe(r: Recipient): void {
    this.opts.fanout.unsubscribe(r.transport, r.room.topics[r.format]);
    r.room.subscribed[r.format]--;
  }

  /** Sends what a queued recipient holds while its socket takes it; rejoins the topic when empty. */
  flush(r: Recipient): void {
    const q = r.queue;
    if (!q || r.isClosed) return;
    const low = this.opts.softBytes / 2;
    const m = this.opts.metrics;
    q.flush((frame) => {
      const res = r.transport.send(frame);
      if (res !== SendResult.Dropped) {
        const bytes = frameLength(frame);
        r.room.messagesOut++;
        r.room.bytesOut += bytes;
        m.messagesSent++;
        m.bytesSent += bytes;
      }
      return res === SendResult.Sent || r.transport.bufferedAmount() < low;
    });
    if (q.length === 0 && r.transport.bufferedAmount() < low) this.#fast(r);
  }

  /** Removes a leaving recipient from its topic or the slow set (its queue goes with it). */
  forget(r: Recipient): void {
    if (r.queue) {
      r.room.slow.delete(r);
      r.queue = undefined;
    } else this.unsubscribe(r);
  }

  /** The slow-consumer pass of the sweep: flush the slow, demote the lagging, close the hopeless. */
  checkBuffers(r: Recipient): void {
    const buffered = r.transport.bufferedAmount();
    if (buffered + (r.queue?.bytes ?? 0) > this.opts.hardBytes) return this.#tooSlow(r);
    if (r.queue) this.flush(r);
    else if (buffered > this.opts.softBytes) this.#slow(r);
  }
}
