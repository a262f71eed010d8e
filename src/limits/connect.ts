/**
 * Connection attempts per IP address, for the HTTP upgrade route (429 with `Retry-After`).
 *
 * ## Algorithm
 * GCRA (the generic cell rate algorithm, a token bucket stored as one number): an IP may make
 * a burst of `limit` attempts, then one every `windowMs / limit` (one per 33⅓ ms for the
 * defaults). So the sustained rate is exactly `limit` per `windowMs`, and an arbitrary
 * `windowMs` interval holds at most `2 × limit − 1` accepted attempts (a full burst, then the
 * steady trickle). The per-message limiter is stricter; here one number per IP matters more,
 * because this table is what an attack from many addresses grows.
 *
 * Each IP's value is its "theoretical arrival time" (TAT): an attempt at `t` is accepted when
 * `TAT − t ≤ windowMs − windowMs / limit`, and then moves TAT on by `windowMs / limit`. The
 * arithmetic is done in units of `1 / limit` ms so that it stays exact in integers.
 *
 * ## Memory
 * At most `maxEntries` IPs are remembered (default 10,000: about 2 MB; an entry measured
 * 150–210 bytes for IPv4/IPv6 keys on Bun and Node, plus at most 32 bytes of ring per entry). An entry whose TAT has
 * passed is worth nothing (a fresh IP behaves the same) and may be dropped; one attempt's entry
 * expires `windowMs / limit` later. The table is kept in least-recently-seen order: every
 * attempt sweeps up to two expired entries from the old end (no timers), and when the table is
 * full the least recently seen IP is forgotten (`evicted`), which only lets that IP start
 * afresh. An IP that keeps attempting stays at the recent end, so churning through many other
 * addresses does not clear its record unless it sits quiet for `maxEntries` newcomers.
 * Keys longer than 64 characters are cut to 64 (an IPv6 address with zone fits).
 * @module
 */
import { checkWhole, nowFn, type Now } from "./state.ts";

/** Options of {@link ConnectLimiter}. */
export interface ConnectLimitOptions {
  /** Connection attempts an IP may make per window; 0 disables the limiter. @default 300 */
  limit?: number;
  /** The window, in milliseconds. @default 10000 */
  windowMs?: number;
  /** Most IPs remembered at once (about 200 bytes each, key included). @default 10000 */
  maxEntries?: number;
}

/** The answer to one attempt: allowed, or refused with the `Retry-After` value in seconds. */
export type ConnectResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterSec: number };

const ALLOWED: ConnectResult = Object.freeze({ ok: true });
/** Expired entries removed per attempt: more than the one an attempt can add, so the table drains. */
const SWEEP_PER_ATTEMPT = 2;
const MAX_KEY = 64;

/** Rate of connection attempts per IP (see the module comment for the algorithm and memory). */
export class ConnectLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly maxEntries: number;
  /** Attempts refused (for metrics). */
  rejected = 0;
  /** IPs forgotten before their entry expired because the table was full. */
  evicted = 0;
  readonly #now: () => number;
  /** IP → its position in the ring (a sequence number; the slot is the position modulo the length). */
  readonly #pos = new Map<string, number>();
  /**
   * The ring, in order of last attempt: each slot holds an IP (or `undefined` once that IP
   * attempted again and moved to a newer slot) and its TAT in units of 1/limit ms since `#origin`.
   * A `Map` alone would do in principle, but removing from the front of a `Map` and iterating it
   * from the front again is O(removed) per call on both JSC and V8 (deleted entries stay until
   * a rehash): about 9 µs per attempt at 10,000 entries, measured. The ring keeps it O(1).
   */
  #keys: (string | undefined)[] = [];
  #tats = new Float64Array(0);
  /** Positions of the oldest slot still in the ring and of the next slot to write. */
  #head = 0;
  #tail = 0;
  /** Time origin, so `(t − origin) × limit` stays a small exact integer. */
  readonly #origin: number;
  /** Burst tolerance in units: `windowMs × (limit − 1)`. */
  readonly #tolerance: number;

  constructor(opts: ConnectLimitOptions, clock: Now) {
    this.limit = checkWhole("limit", opts.limit ?? 300, 0, 1_000_000);
    this.windowMs = checkWhole("windowMs", opts.windowMs ?? 10_000, 1, 3_600_000);
    this.maxEntries = checkWhole("maxEntries", opts.maxEntries ?? 10_000, 1);
    this.#now = nowFn(clock);
    this.#origin = Math.floor(this.#now());
    this.#tolerance = this.windowMs * (this.limit - 1);
  }

  /**
   * Records a connection attempt from `ip`. When refused, answer HTTP 429 with
   * `Retry-After: retryAfterSec`: an attempt that many seconds later is accepted (if the IP
   * makes none in between).
   * @param t the current time, when the caller already has it.
   */
  attempt(ip: string, t: number = this.#now()): ConnectResult {
    if (this.limit === 0) return ALLOWED;
    const key = ip.length > MAX_KEY ? ip.slice(0, MAX_KEY) : ip;
    // Units of 1/limit ms: one attempt costs exactly `windowMs` units.
    const now = this.#units(t);
    this.#sweepOldest(now, SWEEP_PER_ATTEMPT);
    const pos = this.#pos.get(key);
    let tat = now;
    if (pos !== undefined) {
      const slot = pos % this.#tats.length;
      if (this.#tats[slot]! > now) tat = this.#tats[slot]!;
      this.#keys[slot] = undefined; // moves to the newest slot below
    } else if (this.#pos.size >= this.maxEntries) {
      this.#evictOldest(now);
    }
    const ahead = tat - now;
    if (ahead > this.#tolerance) {
      this.rejected++;
      this.#push(key, tat);
      const waitMs = (ahead - this.#tolerance) / this.limit;
      return { ok: false, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    this.#push(key, tat + this.windowMs);
    return ALLOWED;
  }

  /** IPs currently remembered. */
  get size(): number {
    return this.#pos.size;
  }

  /**
   * Removes every expired entry: O(size). Not needed for correctness or for the memory bound
   * (`attempt` sweeps a little each time); a caller may run it from an idle timer.
   */
  sweep(t: number = this.#now()): void {
    const now = this.#units(t);
    const len = this.#tats.length;
    for (let p = this.#head; p < this.#tail; p++) {
      const key = this.#keys[p % len];
      if (key !== undefined && this.#tats[p % len]! <= now) this.#forget(p % len, key);
    }
  }

  #units(t: number): number {
    return (Math.floor(t) - this.#origin) * this.limit;
  }

  /**
   * Removes up to `max` expired entries from the least recently seen end, stopping at the first
   * live one (vacated slots are skipped at no cost to `max`; each is skipped once). A TAT is
   * never more than `windowMs` ahead of its IP's last attempt, so an expired entry waits
   * behind a live one at most until `windowMs` after its own last attempt.
   */
  #sweepOldest(now: number, max: number): void {
    const len = this.#tats.length;
    for (; this.#head < this.#tail; this.#head++) {
      const slot = this.#head % len;
      const key = this.#keys[slot];
      if (key === undefined) continue;
      if (this.#tats[slot]! > now || max-- <= 0) return;
      this.#forget(slot, key);
    }
  }

  /** Forgets the least recently seen IP to make room. */
  #evictOldest(now: number): void {
    const len = this.#tats.length;
    for (; this.#head < this.#tail; this.#head++) {
      const slot = this.#head % len;
      const key = this.#keys[slot];
      if (key === undefined) continue;
      if (this.#tats[slot]! > now) this.evicted++;
      this.#forget(slot, key);
      this.#head++;
      return;
    }
  }

  #forget(slot: number, key: string): void {
    this.#keys[slot] = undefined;
    this.#pos.delete(key);
  }

  #push(key: string, tat: number): void {
    if (this.#tail - this.#head === this.#tats.length) this.#compact();
    const slot = this.#tail % this.#tats.length;
    this.#keys[slot] = key;
    this.#tats[slot] = tat;
    this.#pos.set(key, this.#tail++);
  }

  /**
   * Rebuilds a full ring without its vacated slots, at twice the live entries (at most
   * 2 × maxEntries slots, 16 bytes each). After a rebuild at least half the ring is free, so
   * the O(live) cost is amortised to O(1) per attempt.
   */
  #compact(): void {
    const live = this.#pos.size;
    const length = Math.min(2 * this.maxEntries, Math.max(64, 2 * (live + 1)));
    const keys: (string | undefined)[] = new Array(length);
    const tats = new Float64Array(length);
    const old = this.#tats.length;
    let n = 0;
    for (let p = this.#head; p < this.#tail; p++) {
      const key = this.#keys[p % old];
      if (key === undefined) continue;
      keys[n] = key;
      tats[n] = this.#tats[p % old]!;
      this.#pos.set(key, n++);
    }
    this.#keys = keys;
    this.#tats = tats;
    this.#head = 0;
    this.#tail = n;
  }
}
