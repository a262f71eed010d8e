/**
 * The outcome of each reliable send of an acknowledging client: the server answers ACCEPTED
 * (the message is in the room log, with its seq) or an ERROR naming it (NOT_DELIVERED,
 * CONFLICT, FORBIDDEN, …). {@link Outcomes} keeps one promise per unanswered send, created
 * when it is sent (so asking late never misses the answer) and marked handled (so a send
 * nobody asks about never raises an unhandled rejection).
 * @module
 */
import { GraphwizError } from "./errors.ts";
import type { AcceptedEvent } from "./events.ts";

/** Most unanswered sends tracked; past it the oldest is given up (`OUTCOME_UNKNOWN`). */
export const PENDING_LIMIT = 4096;
/** Settled outcomes kept for a late `outcome(id)`. */
const SETTLED_LIMIT = 256;

interface Pending {
  promise: Promise<AcceptedEvent>;
  resolve(a: AcceptedEvent): void;
  reject(e: GraphwizError): void;
  /** Written to a socket (else still queued). */
  sent: boolean;
}

/** The outcomes of one client's reliable sends, by message id. */
export class Outcomes {
  readonly #pending = new Map<string, Pending>();
  readonly #settled = new Map<string, Promise<AcceptedEvent>>();

  /** How many sends await their answer. */
  get size(): number {
    return this.#pending.size;
  }

  /** Starts tracking the send `id`: already written to the socket, or queued until {@link sent}. */
  track(id: string, sent: boolean): void {
    let resolve!: Pending["resolve"], reject!: Pending["reject"];
    const promise = new Promise<AcceptedEvent>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => {});
    this.#pending.set(id, { promise, resolve, reject, sent });
    if (this.#pending.size > PENDING_LIMIT) {
      const oldest = this.#pending.keys().next().value!;
      this.#settle(oldest, (p) => p.reject(new GraphwizError("OUTCOME_UNKNOWN", `More than ${PENDING_LIMIT} sends await an answer; gave up on the oldest`)));
    }
  }

  /** The send `id` went out on the socket. */
  sent(id: string): void {
    const p = this.#pending.get(id);
    if (p) p.sent = true;
  }

  /** The outcome of send `id` (pending or recently settled); rejects with `NO_OUTCOME` for an id not tracked. */
  get(id: string): Promise<AcceptedEvent> {
    return this.#pending.get(id)?.promise ?? this.#settled.get(id) ?? Promise.reject(new GraphwizError("NO_OUTCOME", `No outcome is tracked for message ${id}`));
  }

  /** ACCEPTED for `a.ref_message_id`. */
  accept(a: AcceptedEvent): void {
    this.#settle(a.ref_message_id, (p) => p.resolve(a));
  }

  /** An ERROR (or the SDK) says send `id` failed. */
  reject(id: string, error: GraphwizError): void {
    this.#settle(id, (p) => p.reject(error));
  }

  /**
   * The connection closed: the answers to what went out will not come (ACCEPTED is not
   * replayed on resume). With `final`, what was still queued is dropped too (`NOT_SENT`).
   */
  closed(final: boolean): void {
    for (const [id, p] of [...this.#pending]) {
      if (p.sent) this.reject(id, new GraphwizError("OUTCOME_UNKNOWN", `The connection closed before the server answered message ${id}; it may or may not have reached the room`));
      else if (final) this.reject(id, new GraphwizError("NOT_SENT", `Message ${id} was still queued when the client closed; it reached nobody`));
    }
  }

  #settle(id: string, how: (p: Pending) => void): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    how(p);
    this.#settled.set(id, p.promise);
    if (this.#settled.size > SETTLED_LIMIT) this.#settled.delete(this.#settled.keys().next().value!);
  }
}
