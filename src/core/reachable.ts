/**
 * Resume windows count only time in which the cluster store was reachable (as this instance
 * saw it), the way node liveness counts only heartbeats that could be written: while the store
 * is down a dropped client cannot resume (every attempt fails), so that time must not use up
 * its window — it is declared gone only once it has had its whole window with the store up.
 * An instance counts only what it saw: time before it started does not count either.
 * @module
 */
import type { ClusterBackend } from "../cluster/types.ts";
import type { Clock } from "../lib/clock.ts";

/** The store's unreachable stretches as this instance saw them, and what they mean for resume windows. */
export class Reachable {
  /**
   * Unreachable stretches, oldest first; the last may still be going on (`to` undefined). The
   * first is the time before this instance started: it saw nothing then, so that time does not
   * count either (a restarted instance closes no window an outage before its start extended).
   */
  readonly #down: { from: number; to?: number }[] = [{ from: -Infinity }];

  constructor(readonly clock: Clock, readonly windowMs: number, reachable: boolean) {
    if (reachable) this.set(true);
  }

  /** The store became reachable (true) or unreachable (false). */
  set(reachable: boolean): void {
    const last = this.#down.at(-1);
    const going = last !== undefined && last.to === undefined;
    if (!reachable && !going) this.#down.push({ from: this.clock.now() });
    else if (reachable && going) last.to = this.clock.now();
  }

  /**
   * The latest window end (`until`, set as start + RESUME_WINDOW_MS) whose window has closed by
   * `now` counting only reachable time: `now` when the store was reachable all along; earlier
   * by the unreachable time since such a window started. (Monotonic in `now`, so one cutoff
   * selects exactly the closed windows among those with an earlier `until`.)
   */
  closedBy(now: number): number {
    let need = this.windowMs;
    let t = now;
    for (let i = this.#down.length - 1; i >= 0 && need > 0; i--) {
      const d = this.#down[i]!;
      const up = t - Math.min(d.to ?? now, t); // reachable time between this stretch and `t`
      if (up >= need) break;
      need -= up;
      t = Math.min(t, d.from);
    }
    const start = t - need;
    // Stretches over before the start of the last window that could still be open: never needed again.
    while (this.#down.length > 0 && this.#down[0]!.to !== undefined && this.#down[0]!.to! <= start) this.#down.shift();
    return start + this.windowMs;
  }
}

/** {@link Reachable.closedBy} of a tracker following `backend`'s status (for `SessionsOptions.closedBy`). */
export function reachable(backend: Pick<ClusterBackend, "onStatus" | "status">, clock: Clock, windowMs: number): (now: number) => number {
  const r = new Reachable(clock, windowMs, backend.status().healthy);
  backend.onStatus((s) => r.set(s.healthy));
  return (now) => r.closedBy(now);
}
