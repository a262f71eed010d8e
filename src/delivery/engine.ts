/**
 * Delivery: who gets which frame, how, and what happens when they do not keep up.
 *
 * - Every broadcast is encoded once per format and published natively to the room's topics.
 * - Reliable messages first go through the room log, which gives them a per-room `seq` inside
 *   the bytes — the same bytes for every recipient, so fan-out stays native — and keeps them
 *   for resends and resume.
 * - A member whose socket buffer passes SLOW_CONSUMER_SOFT_BYTES leaves the topic for a send
 *   queue (position updates coalesced per entity), rejoins when drained, and is closed past
 *   SLOW_CONSUMER_HARD_BYTES.
 * - Reliable (`?ack=1`) members acknowledge; what they do not acknowledge is resent with
 *   backoff ({@link import("./acks.ts")}).
 * @module
 */
import type { RoomLog } from "../cluster/types.ts";
import type { Connection } from "../core/connection.ts";
import type { Hub } from "../core/hub.ts";
import { formatSlot, slotOf, RAW_SLOT } from "../core/metrics.ts";
import type { Format, Room } from "../core/room.ts";
import { SendResult, type Frame } from "../core/transport.ts";
import { frameLength } from "../core/bytes.ts";
import { CloseCode } from "../errors.ts";
import { encodeCounts, Outbound } from "../protocol/codec.ts";
import { encodeBinary } from "../protocol/proto.ts";
import type { Envelope } from "../protocol/types.ts";
import { decodeFrame, encodeFrame, outboundOf, type FrameMeta } from "./frames.ts";
import { InOrder } from "./in-order.ts";
import { SendQueue } from "./queue.ts";
import { SessionStore } from "./sessions.ts";

/** What is being delivered: a typed message (encoded lazily per format) or a raw text frame. */
export type Payload = Outbound | string;

/** Delivery for one hub. */
export class Delivery {
  readonly sessions = new SessionStore();
  readonly inOrder: InOrder;

  constructor(readonly hub: Hub, readonly log: RoomLog) {
    this.inOrder = new InOrder(log, hub.clock, (room, e) => {
      const f = decodeFrame(e.frame);
      this.deliver(room, outboundOf(f.payload), f);
    });
  }

  /**
   * Sequences a reliable message through the room log, then delivers it locally. The memory
   * log answers at once; an asynchronous log (Redis) delivers when it answers.
   */
  reliable(room: Room, msg: Envelope, meta: FrameMeta, sender?: Connection): void {
    if (room.reliable === 0 && room.ghosts === 0 && !this.hub.link.opts.shareWorld) {
      // Nobody here acknowledges or may resume, and no other instance reads the log: a sequence
      // number and a history entry would serve no one.
      return this.deliver(room, new Outbound(msg), meta, sender);
    }
    encodeCounts.protobuf++;
    let entry;
    try {
      entry = this.log.append(room.id, encodeFrame(meta, encodeBinary(msg)));
    } catch (e) {
      return this.#unsequenced(room, msg, meta, e as Error, sender);
    }
    if (!(entry instanceof Promise)) return this.#deliverEntry(room, msg, meta, entry.seq, entry.epoch, entry.frame, sender);
    // The log answers later (Redis): hold this room's later local deliveries until it has, so
    // everyone here sees the room's messages in the order they were handled.
    const slot: { run?: () => void } = {};
    room.deferred.push(slot);
    entry.then(
      (e) => (slot.run = () => this.#deliverEntry(room, msg, meta, e.seq, e.epoch, e.frame, sender)),
      (e) => (slot.run = () => this.#unsequenced(room, msg, meta, e as Error, sender)),
    ).finally(() => this.#release(room));
  }

  /** Runs `fn` now, or after the room's reliable messages still waiting for the log. */
  ordered(room: Room, fn: () => void): void {
    if (room.deferred.length === 0) fn();
    else room.deferred.push({ run: fn });
  }

  #release(room: Room): void {
    while (room.deferred.length > 0 && room.deferred[0].run) room.deferred.shift()!.run!();
  }

  /** The room log is unreachable (Redis down): deliver here anyway, without a sequence number. */
  #unsequenced(room: Room, msg: Envelope, meta: FrameMeta, err: Error, sender?: Connection): void {
    this.hub.metrics.delivery.unsequenced++;
    this.hub.log.warn("room_log_unavailable", { room: room.id, message: err.message });
    msg.seq = 0;
    this.deliver(room, new Outbound(msg), meta, sender);
  }

  #deliverEntry(room: Room, msg: Envelope, meta: FrameMeta, seq: number, epoch: number, frame: Uint8Array, sender?: Connection): void {
    msg.seq = seq;
    msg.epoch = epoch;
    this.inOrder.accept(room, epoch, seq, () => this.deliver(room, Outbound.fromProtobuf(msg, decodeFrame(frame).payload), meta, sender));
  }

  /**
   * Delivers to this instance's members: one native publish per format for the subscribed,
   * the send queue for the slow, and only the named client for `meta.only`.
   */
  deliver(room: Room, payload: Payload, meta: FrameMeta, sender?: Connection, key?: string): void {
    if (meta.only) {
      for (const m of room.members) if (m !== sender && m.clientId === meta.only) this.sendTo(m, payload, key);
      return;
    }
    const live = sender && !sender.isClosed && sender.room === room && !sender.queue ? sender : undefined;
    const json = room.subscribedJson - (live?.format === "json" ? 1 : 0);
    const pb = room.subscribedProtobuf - (live?.format === "protobuf" ? 1 : 0);
    // compat (issue 15): the xr topic; untyped text never goes to xr members (their client cannot read it).
    const xr = typeof payload === "string" ? 0 : room.subscribedXr - (live?.format === "xr" ? 1 : 0);
    if (json > 0) this.#publish(room, room.topicJson, payload, "json", json, live);
    if (pb > 0) this.#publish(room, room.topicProtobuf, payload, "protobuf", pb, live);
    if (xr > 0) this.#publish(room, room.topicXr, payload, "xr", xr, live);
    for (const m of room.slow) if (m !== sender) this.#enqueue(m, payload, key);
  }

  #publish(room: Room, topic: string, payload: Payload, format: Format, n: number, sender?: Connection): void {
    const frame = typeof payload === "string" ? payload : payload.frame(format);
    this.hub.fanout.publish(topic, frame, sender?.transport);
    this.#count(room, payload, frame, n, format);
  }

  #count(room: Room, payload: Payload, frame: Frame, n: number, format: Format): void {
    const bytes = frameLength(frame);
    room.messagesOut += n;
    room.bytesOut += n * bytes;
    this.hub.metrics.sent(typeof payload === "string" ? RAW_SLOT : slotOf(payload.msg.type), formatSlot(format, frame), n, bytes);
  }

  /**
   * One connection alone: straight to its socket, or to its queue while it is slow. `format`
   * overrides the connection's (a PING is answered in the format it came in).
   */
  sendTo(conn: Connection, payload: Payload, key?: string, format = conn.format): void {
    if (conn.isClosed || (format === "xr" && typeof payload === "string")) return;
    if (conn.queue) return this.#enqueue(conn, payload, key, format);
    const frame = typeof payload === "string" ? payload : payload.frame(format);
    const r = conn.transport.send(frame);
    if (r !== SendResult.Dropped) this.#count(conn.room, payload, frame, 1, format);
    if (r === SendResult.Queued && conn.transport.bufferedAmount() > this.hub.config.slowConsumerSoftBytes) this.#slow(conn);
  }

  #enqueue(conn: Connection, payload: Payload, key?: string, format = conn.format): void {
    const q = conn.queue!;
    // Voice is stale by the time a slow client could play it: not queued. Untyped text: not for xr.
    if (typeof payload === "string" ? format === "xr" : payload.msg.payload === "voice_data") return;
    const frame = typeof payload === "string" ? payload : payload.frame(format);
    const before = q.coalesced;
    q.push(frame, frameLength(frame), key);
    this.hub.metrics.delivery.coalesced += q.coalesced - before;
    if (q.bytes + conn.transport.bufferedAmount() > this.hub.config.slowConsumerHardBytes) this.#tooSlow(conn);
  }

  #slow(conn: Connection): void {
    if (conn.queue || conn.isClosed) return;
    conn.queue = new SendQueue();
    conn.room.unsubscribe(conn, this.hub.fanout);
    conn.room.slow.add(conn);
  }

  #fast(conn: Connection): void {
    if (!conn.queue) return;
    conn.queue = undefined;
    conn.room.slow.delete(conn);
    conn.room.subscribe(conn, this.hub.fanout);
  }

  #tooSlow(conn: Connection): void {
    this.hub.metrics.delivery.slow_consumer_closes++;
    const limit = this.hub.config.slowConsumerHardBytes;
    this.hub.closeWith(conn, CloseCode.SLOW_CONSUMER, "DISCONNECT", `Send queue passed SLOW_CONSUMER_HARD_BYTES (${limit})`);
  }

  /** Sends what a slow connection's queue holds while its socket takes it; rejoins the topic when empty. */
  flush(conn: Connection): void {
    const q = conn.queue;
    if (!q || conn.isClosed) return;
    const low = this.hub.config.slowConsumerSoftBytes / 2;
    q.flush((frame) => {
      const r = conn.transport.send(frame);
      if (r !== SendResult.Dropped) {
        const bytes = frameLength(frame);
        conn.room.messagesOut++;
        conn.room.bytesOut += bytes;
        this.hub.metrics.messagesSent++;
        this.hub.metrics.bytesSent += bytes;
      }
      return r === SendResult.Sent || conn.transport.bufferedAmount() < low;
    });
    if (q.length === 0 && conn.transport.bufferedAmount() < low) this.#fast(conn);
  }

  /** Removes a closing connection from the slow set (its queue goes with it). */
  forget(conn: Connection): void {
    if (conn.queue) {
      conn.room.slow.delete(conn);
      conn.queue = undefined;
    } else conn.room.unsubscribe(conn, this.hub.fanout);
  }

  /** The slow-consumer pass of the sweep: flush the slow, demote the lagging, close the hopeless. */
  checkBuffers(conn: Connection): void {
    const buffered = conn.transport.bufferedAmount();
    const cfg = this.hub.config;
    if (buffered + (conn.queue?.bytes ?? 0) > cfg.slowConsumerHardBytes) return this.#tooSlow(conn);
    if (conn.queue) this.flush(conn);
    else if (buffered > cfg.slowConsumerSoftBytes) this.#slow(conn);
  }
}
