/**
 * Acknowledged delivery for `?ack=1` clients: cumulative ACKs, and resends with exponential
 * backoff from the room log (same bytes, same `seq`), closing the connection after
 * MAX_RETRIES. Which connection owns a session, and resume, are the core's (core/sessions.ts).
 * @module
 */
import type { LogEntry, RoomLog } from "../cluster/types.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Delivery } from "./deliver.ts";
import { decodeFrame, outboundOf, payloadOf } from "./frames.ts";
import type { Recipient } from "./recipient.ts";

/** Whether a log entry is owed to `clientId` (not its own message; not someone else's whisper). */
export function owed(entry: LogEntry, clientId: string): boolean {
  const m = decodeFrame(entry.frame);
  return m.sender !== clientId && (m.only === "" || m.only === clientId);
}

/** The backoff delay before resend number `attempt` (1-based). */
export function retryDelay(attempt: number, ackTimeoutMs: number): number {
  return ackTimeoutMs * 2 ** attempt;
}

/** What {@link Acks} needs. */
export interface AcksOptions {
  log: RoomLog;
  delivery: Delivery;
  metrics: Metrics;
  /** ACK_TIMEOUT_MS. */
  ackTimeoutMs: number;
  /** MAX_RETRIES. */
  maxRetries: number;
  /** Closes a recipient that stayed unresponsive (4104), or whose unacknowledged messages left the history. */
  unresponsive(r: Recipient, why: string): void;
}

/** Acknowledgements and resends of the reliable recipients. */
export class Acks {
  readonly #tracked = new Set<Recipient>();
  constructor(readonly opts: AcksOptions) {}

  /** Starts tracking `r`: everything up to (`epoch`, `seq`) counts as acknowledged. */
  track(r: Recipient, epoch: number, seq: number): void {
    r.ackEpoch = epoch;
    r.acked = seq;
    r.retries = 0;
    r.nextRetryAt = 0;
    this.#tracked.add(r);
  }

  untrack(r: Recipient): void {
    this.#tracked.delete(r);
  }

  /** A cumulative ACK: everything up to `seq` (of `epoch`, when the client names it) arrived. */
  ack(r: Recipient, seq: number, epoch?: number): void {
    const ch = r.room;
    if (epoch && epoch !== ch.epoch) return; // an ACK of a sequence the room has left
    this.#sync(r);
    if (seq > r.acked && seq <= ch.seq) {
      r.acked = seq;
      r.retries = 0;
      r.nextRetryAt = 0;
    }
  }

  /** A new epoch started counting from 0: what the client acknowledged before does not count in it. */
  #sync(r: Recipient): void {
    if (r.ackEpoch === r.room.epoch) return;
    r.ackEpoch = r.room.epoch;
    r.acked = 0;
    r.retries = 0;
    r.nextRetryAt = 0;
  }

  /** Resends what is overdue; closes recipients out of retries. */
  sweep(now: number): void {
    for (const r of this.#tracked) this.#check(r, now);
  }

  #check(r: Recipient, now: number): void {
    if (r.isClosed || r.queue) return; // a queued recipient's queue already holds its messages
    this.#sync(r);
    const ch = r.room;
    if (ch.seq <= r.acked) return void (r.nextRetryAt = 0);
    if (!r.nextRetryAt) return void (r.nextRetryAt = now + this.opts.ackTimeoutMs);
    if (now < r.nextRetryAt) return;
    r.nextRetryAt = now + retryDelay(r.retries + 1, this.opts.ackTimeoutMs); // no second read while one is pending
    let entries;
    try {
      entries = this.opts.log.read(ch.id, ch.epoch, r.acked, ch.seq - r.acked);
    } catch {
      return; // the log is unreachable: try again at the next due time
    }
    if (entries instanceof Promise) return void entries.then((e) => this.#resend(r, e, now), () => {});
    this.#resend(r, entries, now);
  }

  #resend(r: Recipient, entries: LogEntry[] | null, now: number): void {
    if (r.isClosed) return;
    const due = entries?.filter((e) => owed(e, r.clientId) && e.epoch === r.room.epoch);
    if (due && due.length === 0) {
      // Only the client's own messages were outstanding: nothing is owed.
      r.acked = Math.max(r.acked, entries!.at(-1)?.seq ?? r.acked);
      r.nextRetryAt = 0;
      return;
    }
    if (!due || r.retries >= this.opts.maxRetries) {
      this.opts.metrics.delivery.unresponsive_closes++;
      return this.opts.unresponsive(r, due ? `No ACK after ${r.retries} resends` : "Unacknowledged messages fell out of the room history");
    }
    r.retries++;
    this.opts.metrics.delivery.retries += due.length;
    for (const e of due) this.opts.delivery.sendTo(r, outboundOf(payloadOf(e.frame)));
    r.nextRetryAt = now + retryDelay(r.retries, this.opts.ackTimeoutMs);
  }

  /** Unacknowledged messages over all reliable recipients (for /metrics). */
  unacked(): number {
    let n = 0;
    for (const r of this.#tracked) n += r.ackEpoch === r.room.epoch ? Math.max(0, r.room.seq - r.acked) : 0;
    return n;
  }
}
