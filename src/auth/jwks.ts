/**
 * A cached JSON Web Key Set. Keys are fetched on first use and kept by `kid`; the set is fetched
 * again when it is older than `maxAgeMs`, or when a token names a `kid` not in it. Fetches are
 * single-flight (concurrent verifications share one request) and start at most once per
 * `minRefreshMs`, so a flood of tokens with made-up kids costs the JWKS server one request per
 * interval, not one per token. A failed fetch keeps the previous keys.
 * @module
 */

import type { Logger } from "../log.ts";
import { type VerificationKey, jwkKey } from "./keys.ts";

/** The key for a kid, or why there is none. */
export type JwksLookup = VerificationKey | "unknown" | "unavailable";

/** The part of `fetch` the cache uses (the global `fetch` fits). */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

/** What the cache needs from outside. */
export interface JwksDeps {
  fetch: FetchLike;
  /** Milliseconds since the epoch. */
  now: () => number;
  logger?: Logger;
}

/** Largest JWKS document read (real ones are a few KiB). */
const MAX_JWKS_CHARS = 1_000_000;
/** A JWKS request that takes longer than this is abandoned. */
const FETCH_TIMEOUT_MS = 5_000;

/** The keys of one JWKS URL. */
export class JwksCache {
  readonly #url: string;
  readonly #deps: JwksDeps;
  readonly #minRefreshMs: number;
  readonly #maxAgeMs: number;
  /** kid → key, plus the JWK's JSON so an unchanged key keeps its imported CryptoKeys. */
  #keys: Map<string, { json: string; key: VerificationKey }> | undefined;
  #loadedAt = 0;
  #attemptAt: number | undefined;
  #inflight: Promise<void> | undefined;
  #lastError = "";

  constructor(url: string, deps: JwksDeps, minRefreshMs: number, maxAgeMs: number) {
    this.#url = url;
    this.#deps = deps;
    this.#minRefreshMs = minRefreshMs;
    this.#maxAgeMs = maxAgeMs;
  }

  /** The key with this kid, refreshing the set first if it is missing, stale, or lacks the kid. */
  async lookup(kid: string): Promise<JwksLookup> {
    if (this.#keys === undefined || this.#deps.now() - this.#loadedAt >= this.#maxAgeMs) await this.#refresh();
    if (this.#keys !== undefined && !this.#keys.has(kid)) await this.#refresh();
    const hit = this.#keys?.get(kid);
    if (hit) return hit.key;
    return this.#keys === undefined ? "unavailable" : "unknown";
  }

  /** Loads the set if it never was (subject to the refresh interval); rejects if no keys are held. */
  async ready(): Promise<void> {
    if (this.#keys === undefined) await this.#refresh();
    if (this.#keys === undefined) throw new Error(`Could not load the JWKS: ${this.#lastError}`);
  }

  /** Fetches now, unless a fetch is in flight (join it) or one started under minRefreshMs ago. */
  #refresh(): Promise<void> {
    if (this.#inflight) return this.#inflight;
    const t = this.#deps.now();
    if (this.#attemptAt !== undefined && t - this.#attemptAt < this.#minRefreshMs) return Promise.resolve();
    this.#attemptAt = t;
    this.#inflight = this.#load().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #load(): Promise<void> {
    const log = this.#deps.logger;
    try {
      const signal = typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(FETCH_TIMEOUT_MS) : undefined;
      const res = await this.#deps.fetch(this.#url, { headers: { accept: "application/json" }, signal });
      if (!res.ok) throw new Error(`the server answered HTTP ${res.status}`);
      const text = await res.text();
      if (text.length > MAX_JWKS_CHARS) throw new Error("the document is too large");
      const body = JSON.parse(text) as { keys?: unknown };
      if (typeof body !== "object" || body === null || !Array.isArray(body.keys)) throw new Error('the document has no "keys" array');
      const next = new Map<string, { json: string; key: VerificationKey }>();
      let skipped = 0;
      for (const jwk of body.keys as unknown[]) {
        const kid = typeof jwk === "object" && jwk !== null ? (jwk as { kid?: unknown }).kid : undefined;
        // Tokens are matched by kid, so a key without one could never be chosen.
        if (typeof kid !== "string" || kid === "" || next.has(kid)) {
          skipped++;
          continue;
        }
        const json = JSON.stringify(jwk);
        const old = this.#keys?.get(kid);
        const key = old && old.json === json ? old.key : jwkKey(jwk as Record<string, unknown>);
        if (key) next.set(kid, { json, key });
        else skipped++;
      }
      this.#keys = next;
      this.#loadedAt = this.#deps.now();
      log?.info("auth.jwks_loaded", { url: this.#url, keys: next.size, skipped });
    } catch (e) {
      this.#lastError = e instanceof Error ? e.message : String(e);
      log?.warn("auth.jwks_fetch_failed", { url: this.#url, reason: this.#lastError, cached_keys: this.#keys?.size ?? 0 });
    }
  }
}
