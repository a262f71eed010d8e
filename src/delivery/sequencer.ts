/**
 * The reliable path: every reliable message goes through the room log, which gives it the
 * room's next `seq` inside the bytes — the same bytes for every recipient, so fan-out stays
 * native — keeps it for resends and resume, and publishes it to the other instances. A
 * reliable message is either in the log and delivered to every member, or its sender hears
 * that it was not:
 *
 * - The memory log answers at once; an asynchronous log (Redis) answers later, and this
 *   room's later local deliveries wait for it, so everyone here sees the room's messages in
 *   the order they were handled.
 * - While the log is unreachable, reliable messages wait in the room's **outbox** (bounded),
 *   in order, and are retried one at a time; nobody receives them meanwhile (not even here).
 *   One that cannot be appended within OUTBOX_TIMEOUT_MS is given up: its `failed` callback
 *   tells the sender. Unreliable messages are not held behind an outbox.
 * @module
 */
import { ClusterUnavailableError } from "../cluster/shared.ts";
import type { Appended, RoomChange, RoomLog } from "../cluster/types.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { Outbound } from "../protocol/codec.ts";
import type { Envelope } from "../protocol/types.ts";
import type { Delivery } from "./deliver.ts";
import { payloadOf, type FrameMeta } from "./frames.ts";
import type { InOrder } from "./in-order.ts";
import type { Recipient, RoomChannel } from "./recipient.ts";

/** One append: its frames (each `header ‖ message`), their decoded messages and metas, and the room change. */
export interface AppendRequest {
  frames: Uint8Array[];
  msgs: Envelope[];
  metas: FrameMeta[];
  change?: RoomChange;
  /** Never receives these messages. */
  sender?: Recipient;
  /** Runs once the log answered, before local delivery: the entries, or `null` when the guard refused. */
  done?(r: Appended | null): void;
  /** The log could not take it in time (or refused it for good): the messages reached nobody. */
  failed?(err: Error): void;
  /** Set when it entered the outbox: when it is given up. */
  deadline?: number;
  /** Set on each try: it was sent before the room's state was loaded here (see `Sequencer.#wentBack`). */
  beforeLoad?: boolean;
}

/** What a {@link Sequencer} needs. */
export interface SequencerOptions {
  log: RoomLog;
  clock: Clock;
  delivery: Delivery;
  inOrder: InOrder;
  metrics: Metrics;
  logger: Logger;
  /** How long a reliable message may wait in the outbox (OUTBOX_TIMEOUT_MS). */
  outboxTimeoutMs: number;
  /** Most reliable messages waiting in every outbox together (OUTBOX_MAX_MESSAGES). */
  outboxMax: number;
  /** Whether the log may take appends now (false while the cluster restores what it lost: they wait in the outbox). */
  ready(): boolean;
  /**
   * Applies an entry of this instance's own to the room's state again as it is delivered, in
   * room order: the handler applied it when it came, but an earlier entry from elsewhere
   * (a leave of the same client, say) may have undone that since.
   */
  apply?(ch: RoomChannel, msg: Envelope): void;
}

/** Appends reliable messages to the room log and delivers them here in room order. */
export class Sequencer {
  /** Rooms with a non-empty outbox. */
  readonly #waiting = new Set<RoomChannel>();
  readonly #retrying = new Set<RoomChannel>();
  #outboxSize = 0;

  constructor(readonly opts: SequencerOptions) {}

  /** Sequences the messages through the log, then delivers them here (in order, after the log answered). */
  append(ch: RoomChannel, req: AppendRequest): void {
    if (ch.outbox.length > 0 || !this.opts.ready()) return this.#enqueue(ch, req);
    this.#try(ch, req, false);
  }

  /** Whether {@link ordered} would run a function at once (nothing reliable waits in `ch`). */
  idle(ch: RoomChannel): boolean {
    return ch.deferred.length === 0;
  }

  /** Runs `fn` now, or after the room's reliable messages still waiting for the log's answer. */
  ordered(ch: RoomChannel, fn: () => void): void {
    if (ch.deferred.length === 0) fn();
    else ch.deferred.push({ run: fn });
  }

  /** Reliable messages waiting in outboxes (for /metrics). */
  get outboxSize(): number {
    return this.#outboxSize;
  }

  /** The outbox pass of the sweep: give up what is overdue, retry each room's outbox in order. */
  retry(now: number): void {
    if (!this.opts.ready()) {
      // Still unreachable: only give up what is overdue.
      for (const ch of this.#waiting) this.#drain(ch, now, true);
      return;
    }
    for (const ch of this.#waiting) this.#drain(ch, now);
  }

  /** Retries the room's outbox from its head, one append at a time, until one waits or fails. */
  #drain(ch: RoomChannel, now = this.opts.clock.now(), expireOnly = false): void {
    // Overdue messages behind a patient one (a departure, never given up) are given up too.
    if (expireOnly && ch.outbox.length > 1 && ch.outbox[0]!.deadline === Infinity) {
      const overdue = ch.outbox.filter((r, i) => i > 0 && r.deadline! <= now);
      if (overdue.length > 0) {
        ch.outbox.splice(0, ch.outbox.length, ...ch.outbox.filter((r) => !overdue.includes(r)));
        this.#outboxSize -= overdue.length;
        for (const r of overdue) this.#giveUp(r, new ClusterUnavailableError(`The room log stayed unreachable for ${this.opts.outboxTimeoutMs} ms`));
      }
    }
    while (ch.outbox.length > 0 && !this.#retrying.has(ch)) {
      const head = ch.outbox[0]!;
      if (head.deadline! <= now) {
        this.#giveUp(this.#shift(ch), new ClusterUnavailableError(`The room log stayed unreachable for ${this.opts.outboxTimeoutMs} ms`));
        continue;
      }
      if (expireOnly || !this.#try(ch, head, true)) return;
    }
    if (ch.outbox.length === 0) this.#waiting.delete(ch);
  }

  /**
   * Appends `req`; `fromOutbox` when it is the head of the room's outbox (retried serially).
   * Returns false when the log refused to take it now (the room's outbox keeps it).
   */
  #try(ch: RoomChannel, req: AppendRequest, fromOutbox: boolean): boolean {
    req.beforeLoad = !ch.ephemeral && ch.loadedAt === undefined;
    let r;
    try {
      r = this.opts.log.append(ch.id, req.frames, req.change);
    } catch (e) {
      return this.#failed(ch, req, e as Error, fromOutbox);
    }
    if (!(r instanceof Promise)) {
      this.#appended(ch, req, r, fromOutbox);
      return true;
    }
    if (fromOutbox) {
      this.#retrying.add(ch);
      this.opts.metrics.delivery.outbox_retries++;
      r.then(
        (res) => {
          this.#retrying.delete(ch);
          this.#appended(ch, req, res, true);
          this.#drain(ch); // the log is back: go on with the next one
        },
        (e) => {
          this.#retrying.delete(ch);
          if (this.#failed(ch, req, e as Error, true)) this.#drain(ch); // else: the next sweep tries again
        },
      );
      return true;
    }
    // The log answers later (Redis): hold this room's later local deliveries until it has.
    const slot: { run?: () => void } = {};
    ch.deferred.push(slot);
    r.then(
      (res) => (slot.run = () => this.#appended(ch, req, res, false)),
      (e) => (slot.run = () => void this.#failed(ch, req, e as Error, false)),
    ).finally(() => this.#release(ch));
    return true;
  }

  /**
   * Whether the log gave an entry a seq this room already delivered for another message: the
   * log went back in time (a failover to a replica that lacked the last appends).
   */
  #wentBack(ch: RoomChannel, req: AppendRequest, res: Appended): boolean {
    const e = res.entries[0];
    if (!e || e.epoch !== ch.epoch || e.seq > ch.seq) return false;
    // Delivered already — the gap filler may have read this very entry from the log first.
    const seen = ch.recent.find((r) => r.seq === e.seq && r.epoch === e.epoch);
    if (seen) return !sameBytes(seen.frame, e.frame);
    // Sent while the room was still opening here (a departure swept in as a joiner opened it):
    // the state it loaded afterwards already holds this entry, which was never delivered here.
    const base = ch.loadedAt;
    return !(req.beforeLoad && base && base.epoch === e.epoch && e.seq <= base.seq);
  }

  /** Moves the room's log to a new epoch and appends `req` again there. */
  #rebase(ch: RoomChannel, req: AppendRequest, epoch: number): void {
    this.opts.logger.warn("room_log_went_back", { room: ch.id, epoch, seq: ch.seq });
    this.opts.metrics.delivery.rebases++;
    try {
      const r = this.opts.log.rebase(ch.id, epoch);
      if (r instanceof Promise) return void r.then(() => this.append(ch, req), (e) => this.#failed(ch, req, e as Error, false));
    } catch (e) {
      return void this.#failed(ch, req, e as Error, false);
    }
    this.append(ch, req);
  }

  #release(ch: RoomChannel): void {
    while (ch.deferred.length > 0 && ch.deferred[0]!.run) ch.deferred.shift()!.run!();
  }

  #appended(ch: RoomChannel, req: AppendRequest, res: Appended | null, fromOutbox: boolean): void {
    if (fromOutbox && ch.outbox[0] === req) this.#shift(ch);
    if (res && !ch.ephemeral && this.#wentBack(ch, req, res)) return this.#rebase(ch, req, res.entries[0]!.epoch);
    req.done?.(res);
    if (!res || ch.ephemeral) return;
    res.entries.forEach((e, i) => {
      const msg = req.msgs[i]!;
      const meta = req.metas[i]!;
      this.opts.inOrder.accept(ch, e.epoch, e.seq, () => {
        ch.remember(e);
        // The sender is never owed its own message: one that has everything before it has this too.
        // (Else a client that only sends falls behind the history and is closed 4104 for nothing.)
        const s = req.sender;
        if (s && s.ackEpoch === e.epoch && s.acked === e.seq - 1) s.acked = e.seq;
        msg.seq = e.seq;
        msg.epoch = e.epoch;
        this.opts.apply?.(ch, msg);
        this.opts.delivery.deliver(ch, Outbound.fromProtobuf(msg, payloadOf(e.frame)), meta, req.sender);
      });
    });
  }

  /** Handles a failed append; returns true when the request is done with (given up), false when it waits in the outbox. */
  #failed(ch: RoomChannel, req: AppendRequest, err: Error, fromOutbox: boolean): boolean {
    if (!(err instanceof ClusterUnavailableError)) {
      if (fromOutbox && ch.outbox[0] === req) this.#shift(ch);
      this.opts.logger.error("room_log_failed", { room: ch.id, message: err.message });
      this.#giveUp(req, err);
      return true;
    }
    if (!fromOutbox) this.#enqueue(ch, req);
    return false;
  }

  #enqueue(ch: RoomChannel, req: AppendRequest): void {
    if (this.#outboxSize >= this.opts.outboxMax) {
      return this.#giveUp(req, new ClusterUnavailableError(`The room log is unreachable and ${this.opts.outboxMax} messages already wait for it`));
    }
    if (ch.outbox.length === 0) this.opts.logger.warn("room_log_unavailable", { room: ch.id });
    req.deadline ??= this.opts.clock.now() + this.opts.outboxTimeoutMs;
    ch.outbox.push(req);
    this.#outboxSize++;
    this.#waiting.add(ch);
  }

  #shift(ch: RoomChannel): AppendRequest {
    this.#outboxSize--;
    return ch.outbox.shift()!;
  }

  #giveUp(req: AppendRequest, err: Error): void {
    this.opts.metrics.delivery.not_delivered += req.frames.length;
    req.failed?.(err);
  }
}

/** Whether two frames hold the same bytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
