/**
 * The global (per-instance) message budget, shared fairly between connections.
 *
 * ## Policy
 * Time is cut into windows of `windowMs` aligned to `floor(t / windowMs)`. In each window:
 * 1. **Fair share, never dropped.** Each connection's share is `floor(limit / N)` (at least 1),
 *    where N is the larger of the number of connections that have sent in this window and in
 *    the previous one (the previous window stands in for senders that have not spoken yet this
 *    window). A connection's first `share` messages of the window are "within share" and are
 *    always accepted — in the first window, and whatever the others did or however many
 *    senders came along (up to a ceiling of 2 × `limit` per window, a bound no realistic mix
 *    reaches: see below). (Shares count messages sent, accepted or not.)
 * 2. **Cap on excess.** Messages beyond their sender's share are accepted only while the
 *    window has accepted fewer than `limit`.
 * 3. **Spare, not reserve.** A message beyond its sender's share ("excess") is accepted only
 *    from the spare: the budget that within-share traffic is not expected to need. The
 *    expectation is the larger of the within-share messages seen so far in this window and in
 *    the whole previous window ("seen", not accepted: a within-share message that met the hard
 *    cap still counts, so the next window reserves room for it). Excess is served first come,
 *    first served among the connections over their share.
 *
 * So a flooder gets its share plus what the others did not need last window, and only its
 * excess is ever dropped; a sender within its share loses nothing. What that costs: excess
 * already granted is not taken back, so when within-share demand grows over the expectation
 * (senders arriving, or speaking more than last window) the window accepts more than `limit`
 * — by at most that growth. The first window after an idle one (no history) lends no spare at
 * all (a flooder gets just its share). A burst of many new senders at once (each's share
 * floors at 1) is bounded by the ceiling of 2 × `limit`.
 *
 * The windows are fixed, not sliding: the instance budget is a capacity valve, and an arbitrary
 * `windowMs` interval straddling a boundary can see up to 2 × `limit`. The precise per-client
 * bound is the job of {@link import("./message.ts").MessageLimiter}, which runs first.
 *
 * O(1) per message, no allocation; per connection it uses two number fields of the
 * {@link LimiterState}.
 * @module
 */
import { checkWhole, Decision, type LimiterState, nowFn, periodOf, type Now } from "./state.ts";

/** Options of {@link GlobalLimiter}. */
export interface GlobalLimitOptions {
  /** Messages this instance accepts per window, all connections together; 0 disables. @default 50000 */
  limit?: number;
  /** The window, in milliseconds. @default 1000 */
  windowMs?: number;
}

/**
 * The instance-wide budget with fair-share dropping (see the module comment for the policy).
 * Its decisions are `Accept`, `Notify` (send `Error RATE_LIMITED` with {@link retryAfterMs};
 * shares the per-connection "once per window" with the {@link import("./message.ts").MessageLimiter})
 * or `Drop`; it never asks for a close: being squeezed by a busy server is not the client's fault.
 */
export class GlobalLimiter {
  readonly limit: number;
  readonly windowMs: number;
  /** Messages dropped by the global budget (for metrics). */
  dropped = 0;
  readonly #now: () => number;
  /** The current window's number. */
  #window = -Infinity;
  /** Accepted in this window. */
  #total = 0;
  /** Accepted in this window within their sender's share. */
  #within = 0;
  /** Messages within their sender's share seen in this window, accepted or not. */
  #withinSeen = 0;
  /** `#withinSeen` of the previous window; `limit` when there is none (no spare without history). */
  #expected: number;
  /** Connections that have sent in this window. */
  #active = 0;
  /** Connections that sent in the previous window. */
  #prevActive = 0;

  constructor(opts: GlobalLimitOptions, clock: Now) {
    this.limit = checkWhole("limit", opts.limit ?? 50_000, 0);
    this.windowMs = checkWhole("windowMs", opts.windowMs ?? 1000, 1, 3_600_000);
    this.#expected = this.limit;
    this.#now = nowFn(clock);
  }

  /**
   * Counts one message (already accepted by the per-connection limiter) from the connection
   * owning `state` against the instance budget.
   * @param t the current time, when the caller already has it.
   */
  check(state: LimiterState, t: number = this.#now()): Decision {
    if (this.limit === 0) return Decision.Accept;
    const window = periodOf(t, this.windowMs);
    // A clock that went back keeps counting in the current window.
    if (window > this.#window) this.#roll(window);
    if (state.globalWindow !== this.#window) {
      state.globalWindow = this.#window;
      state.globalCount = 0;
      this.#active++;
    }
    const senders = this.#active > this.#prevActive ? this.#active : this.#prevActive;
    const share = Math.max(1, Math.floor(this.limit / senders));
    const within = state.globalCount++ < share;
    if (within) this.#withinSeen++;
    if (within) {
      if (this.#total < 2 * this.limit) {
        this.#within++;
        this.#total++;
        return Decision.Accept;
      }
    } else if (this.#total < this.limit) {
      const expected = this.#withinSeen > this.#expected ? this.#withinSeen : this.#expected;
      if (expected + (this.#total - this.#within) < this.limit) {
        this.#total++;
        return Decision.Accept;
      }
    }
    this.dropped++;
    if (t - state.errorAt >= this.windowMs) {
      state.errorAt = t;
      return Decision.Notify;
    }
    return Decision.Drop;
  }

  /**
   * Milliseconds from `t` to the next window, when the budget and every share start afresh:
   * the first message of a window is always accepted.
   */
  retryAfterMs(t: number = this.#now()): number {
    if (this.limit === 0) return 0;
    const window = Math.max(periodOf(t, this.windowMs), this.#window);
    return Math.max(0, Math.ceil((window + 1) * this.windowMs - t));
  }

  /** Messages accepted so far in the window of `t` (for metrics and tests). */
  used(t: number = this.#now()): number {
    return periodOf(t, this.windowMs) > this.#window ? 0 : this.#total;
  }

  #roll(window: number): void {
    const next = window === this.#window + 1;
    this.#prevActive = next ? this.#active : 0;
    this.#expected = next ? this.#withinSeen : this.limit;
    this.#window = window;
    this.#total = 0;
    this.#within = 0;
    this.#withinSeen = 0;
    this.#active = 0;
  }
}
