/**
 * The per-connection message rate limit: a sliding window kept as a few sub-bucket counters.
 *
 * ## Algorithm
 * Time is cut into sub-buckets of `windowMs / buckets` (K = `buckets`). A connection's state
 * keeps the accepted-message count of the last K + 1 sub-buckets (a ring). A message is
 * accepted when both hold:
 * - the last K sub-buckets (the current one and the K − 1 before it) hold fewer than `limit`;
 * - the last K + 1 sub-buckets hold fewer than the cap, `limit + ceil(limit × w / windowMs)`,
 *   where w is the widest sub-bucket, `ceil(windowMs / K)` ms; when K divides `windowMs` (as
 *   with the defaults) that is `limit + ceil(limit / K)`.
 *
 * ## Bound (exact)
 * Any interval of `windowMs` overlaps at most K + 1 sub-buckets, so it never holds more than
 * **the cap**: `limit + ceil(limit / K)` accepted messages when K divides `windowMs`, 132 for
 * the defaults (1.1×), against 2× for a fixed window. The bound is reached (12 at the end of
 * one sub-bucket, then 120 at the start of the sub-bucket a window later) and the tests check
 * both. (The two-bucket weighted approximation is not ~1.5× against a client that adapts:
 * bursting at the end of one window and then trickling gets it 2× (240 for 120/s), because the
 * weighting assumes the old window's messages were spread evenly. K = 1 is a fixed window.)
 *
 * ## What a compliant client sees
 * The last-K rule spans at most `windowMs`, so it never drops a message that would keep the
 * client within `limit` per window. The second rule spans up to `windowMs + w`, and the cap is
 * sized for that: a client sending evenly at up to `limit` per window is never dropped. A
 * client that sends a full `limit` burst must wait up to one sub-bucket longer than `windowMs`
 * before its next full burst (exactly `windowMs` later only `cap − limit` get through).
 *
 * ## Cost
 * `check` is O(1) and allocates nothing: it advances the ring by the sub-buckets elapsed (at
 * most K + 1 slot writes, amortised one per sub-bucket) and compares two sums it already has.
 * `retryAfterMs` scans at most K + 1 slots and is called only when an error is sent.
 * @module
 */
import { checkWhole, Decision, LimiterState, nowFn, periodOf, type Now } from "./state.ts";

/** Options of {@link MessageLimiter}. */
export interface SlidingWindowOptions {
  /** Messages a connection may send per window; 0 disables the limiter. @default 120 */
  limit?: number;
  /** The window, in milliseconds. @default 1000 */
  windowMs?: number;
  /**
   * Close the connection once it has been over its limit in this many consecutive windows;
   * 0 never closes. @default 10
   */
  strikes?: number;
  /**
   * Sub-buckets per window (K): the bound is `limit + ceil(limit / K)` per window (when K
   * divides `windowMs`) and the state holds K + 1 counters. @default 10
   */
  buckets?: number;
}

/**
 * Per-connection sliding-window limiter. One instance serves every connection; each connection
 * keeps a {@link LimiterState} from {@link newState}.
 *
 * Over the limit a message is dropped and {@link check} says whether to tell the client
 * (`Notify`, at most once per `windowMs` per connection; `retryAfterMs` gives the value) or to
 * close it (`Close`, after `strikes` consecutive windows with drops). Windows for strikes are
 * aligned to `floor(t / windowMs)`; a window without a drop, including one with no messages,
 * resets the count.
 */
export class MessageLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly strikes: number;
  readonly buckets: number;
  /** Messages dropped, all connections together (for metrics). */
  dropped = 0;
  /** `Close` decisions given (connections found over the limit `strikes` windows in a row). */
  closes = 0;
  /**
   * The ceiling of the last K + 1 sub-buckets, and so the most accepted in any `windowMs`:
   * `limit + ceil(limit × ceil(windowMs / K) / windowMs)`.
   */
  readonly cap: number;
  readonly #slots: number;
  readonly #now: () => number;

  constructor(opts: SlidingWindowOptions, clock: Now) {
    this.limit = checkWhole("limit", opts.limit ?? 120, 0, 0xffff_ffff);
    this.windowMs = checkWhole("windowMs", opts.windowMs ?? 1000, 1, 3_600_000);
    this.strikes = checkWhole("strikes", opts.strikes ?? 10, 0);
    this.buckets = checkWhole("buckets", opts.buckets ?? 10, 1, Math.min(1000, this.windowMs));
    // Sized so that a client sending evenly at `limit` per window fits the K + 1 span even when
    // it includes a widest sub-bucket (sub-buckets are whole milliseconds, so widths differ by 1).
    this.cap = this.limit + Math.ceil((this.limit * Math.ceil(this.windowMs / this.buckets)) / this.windowMs);
    this.#slots = this.buckets + 1;
    this.#now = nowFn(clock);
  }

  /** A fresh state for a new connection. */
  newState(): LimiterState {
    return new LimiterState(this.#slots);
  }

  /**
   * Counts one inbound message of the connection owning `state` and says what to do with it.
   * @param t the current time, when the caller already has it (saves a clock read).
   */
  check(state: LimiterState, t: number = this.#now()): Decision {
    if (this.limit === 0) return Decision.Accept;
    this.#advance(state, t);
    const counts = state.counts;
    const n = this.#slots;
    // The oldest slot is the one after `head`; without it, the ring is the last K sub-buckets.
    if (state.sum - counts[(state.head + 1) % n]! < this.limit && state.sum < this.cap) {
      counts[state.head % n]!++;
      state.sum++;
      return Decision.Accept;
    }
    this.dropped++;
    const window = periodOf(t, this.windowMs);
    if (window > state.strikeWindow) {
      state.strikes = window === state.strikeWindow + 1 ? state.strikes + 1 : 1;
      state.strikeWindow = window;
      if (state.strikes === this.strikes) this.closes++;
    }
    if (this.strikes > 0 && state.strikes >= this.strikes) return Decision.Close;
    if (t - state.errorAt >= this.windowMs) {
      state.errorAt = t;
      return Decision.Notify;
    }
    return Decision.Drop;
  }

  /**
   * Milliseconds from `t` until this connection's next message would be accepted, if it sends
   * nothing before then: 0 when it would be accepted now. A message sent exactly that much later
   * is accepted; one sent a millisecond earlier is not (for whole-millisecond times).
   */
  retryAfterMs(state: LimiterState, t: number = this.#now()): number {
    if (this.limit === 0) return 0;
    this.#advance(state, t);
    const counts = state.counts;
    const n = this.#slots;
    const k = this.buckets;
    const head = state.head;
    // Replays the future: in sub-bucket head + d the ring has lost buckets head − K … head + d − K − 1.
    let sum = state.sum;
    for (let d = 0; d <= k; d++) {
      // Bucket numbers below zero only occur for times near the epoch (tests); keep slots ≥ 0.
      if (d > 0) sum -= counts[(((head + d - 1 - k) % n) + n) % n]!;
      const oldest = counts[(((head + d - k) % n) + n) % n]!;
      if (sum - oldest < this.limit && sum < this.cap) {
        return d === 0 ? 0 : Math.max(0, Math.ceil(this.#bucketStart(head + d) - t));
      }
    }
    // Unreachable: at d = K only the head bucket is left; the last-K sum is then 0 and the
    // head bucket holds at most `limit`, below the cap.
    return Math.max(0, Math.ceil(this.#bucketStart(head + k + 1) - t));
  }

  /** Moves the ring forward to the sub-bucket of `t`, zeroing the slots that fell out. */
  #advance(state: LimiterState, t: number): void {
    const bucket = this.#bucketOf(t);
    const steps = bucket - state.head;
    // A clock that went back (steps < 0) counts into the newest bucket rather than rewinding.
    if (steps <= 0) return;
    const counts = state.counts;
    const n = this.#slots;
    if (steps >= n) {
      counts.fill(0);
      state.sum = 0;
    } else {
      for (let i = 1; i <= steps; i++) {
        const slot = (state.head + i) % n;
        state.sum -= counts[slot]!;
        counts[slot] = 0;
      }
    }
    state.head = bucket;
  }

  /** `floor(t * K / windowMs)`, exact in integers (t·K stays far below 2^53). */
  #bucketOf(t: number): number {
    const x = Math.floor(t) * this.buckets;
    return (x - (x % this.windowMs)) / this.windowMs;
  }

  /** The first whole millisecond of sub-bucket `b`: `ceil(b * windowMs / K)`. */
  #bucketStart(b: number): number {
    const x = b * this.windowMs;
    const r = x % this.buckets;
    return (x - r) / this.buckets + (r === 0 ? 0 : 1);
  }
}
