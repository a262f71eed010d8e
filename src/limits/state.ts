/**
 * What the message limiters share: the per-connection state (one small object kept on the
 * connection) and the decision they return for each message.
 * @module
 */

/** What to do with one inbound message. A plain number, so a decision allocates nothing. */
export const Decision = {
  /** Handle the message. */
  Accept: 0,
  /** Drop it silently: a RATE_LIMITED error already went out in this window. */
  Drop: 1,
  /**
   * Drop it and send `Error RATE_LIMITED` now, with `retry_after_ms` from the limiter's
   * `retryAfterMs` (given at most once per window per connection).
   */
  Notify: 2,
  /**
   * Drop it and close the connection with `CloseCode.RATE_LIMITED` (4100): it has been over its
   * limit in `strikes` windows in a row.
   */
  Close: 3,
} as const;
/** One of the {@link Decision} values. */
export type Decision = (typeof Decision)[keyof typeof Decision];

/** Something that can tell the time: a `Clock` (only `now` is used) or a bare function. */
export type Now = { now(): number } | (() => number);

/** Turns a {@link Now} into a function, once, at construction. */
export const nowFn = (clock: Now): (() => number) => (typeof clock === "function" ? clock : () => clock.now());

/**
 * The rate-limit state of one connection: about 190 bytes (measured on Bun: this object plus
 * its small typed array), all plain numbers, created once per connection by
 * `MessageLimiter.newState()` and passed to both `MessageLimiter.check` and
 * `GlobalLimiter.check`. The fields are public so they can be inspected in tests and
 * debugging; only the limiters write them.
 */
export class LimiterState {
  /**
   * Accepted messages per sub-bucket: a ring of `buckets + 1` slots, bucket number `b` in slot
   * `b % length`.
   */
  readonly counts: Uint32Array;
  /** Number of the newest sub-bucket in the ring (`-Infinity` before the first message). */
  head = -Infinity;
  /** Sum of `counts`. */
  sum = 0;
  /** When the last RATE_LIMITED error was requested (ms). */
  errorAt = -Infinity;
  /** Number of the last window (`floor(t / windowMs)`) in which a message was dropped. */
  strikeWindow = -Infinity;
  /** Consecutive windows, ending at `strikeWindow`, with at least one drop. */
  strikes = 0;
  /** The global limiter's window this connection last sent in. */
  globalWindow = -Infinity;
  /** Messages this connection sent to the global limiter in `globalWindow`, accepted or not. */
  globalCount = 0;
  /** The window (`floor(t / windowMs)`) of `named`, and dropped messages named back to the client in it. */
  namedWindow = -Infinity;
  named = 0;

  constructor(slots: number) {
    this.counts = new Uint32Array(slots);
  }
}

/** `floor(t)` split into whole periods of `period` ms: exact in integer arithmetic. */
export const periodOf = (t: number, period: number): number => {
  const x = Math.floor(t);
  return (x - (x % period)) / period;
};

/** Throws a `RangeError` unless `value` is a whole number in `[min, max]`. */
export function checkWhole(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Rate limit option ${name} must be a whole number between ${min} and ${max}, got ${value}`);
  }
  return value;
}
