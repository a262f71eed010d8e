/**
 * {@link TokenVerifier}: checks a JWT against a shared secret, a public key or a JWKS and returns
 * the identity it carries. Signatures are checked by hono/jwt's `verify`, given a CryptoKey
 * imported once; the header, algorithm and key choice are checked here first, and the time
 * claims after, because hono reads `Date.now()` itself and has no leeway.
 * @module
 */

import { decodeHeader, verify as verifySignature } from "hono/utils/jwt/jwt";
import type { Logger } from "../log.ts";
import { isAlgorithm } from "./algorithms.ts";
import { type VerifyResult, checkClaims, invalid } from "./claims.ts";
import { type FetchLike, JwksCache } from "./jwks.ts";
import type { VerificationKey } from "./keys.ts";
import { type AuthOptions, type KeyKind, type ResolvedAuthOptions, resolveAuthOptions } from "./options.ts";

/** Longest token looked at; anything longer is refused before decoding. */
export const MAX_TOKEN_LENGTH = 8192;
// Three base64url segments (no padding); the signature may be empty only for `alg: none`.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** What the verifier takes from outside (all optional). */
export interface VerifierDeps {
  /**
   * Used for the JWKS only.
   * @default globalThis.fetch
   */
  fetch?: FetchLike;
  /**
   * Milliseconds since the epoch.
   * @default Date.now
   */
  now?: () => number;
  /** Receives JWKS load and failure events (never a token). */
  logger?: Logger;
}

// hono's error class names → our reasons (hono's own messages quote the token).
const HONO_REASONS: Record<string, string> = {
  JwtTokenSignatureMismatched: "Token signature is invalid",
  JwtHeaderInvalid: "Token header is invalid",
  JwtTokenInvalid: "Token is malformed",
};

/**
 * Verifies tokens. Build one at start-up and share it: keys are imported once and the JWKS is
 * cached. `verify` never throws and never echoes the token.
 */
export class TokenVerifier {
  /** Where keys come from. */
  readonly keyKind: KeyKind;
  readonly #opts: ResolvedAuthOptions;
  readonly #now: () => number;
  readonly #jwks: JwksCache | undefined;

  /** @throws {Error} with the reason of {@link validateAuthOptions} when the options are invalid. */
  constructor(opts: AuthOptions, deps: VerifierDeps = {}) {
    const resolved = resolveAuthOptions(opts);
    if (typeof resolved === "string") throw new Error(resolved);
    this.#opts = resolved;
    this.keyKind = resolved.keyKind;
    this.#now = deps.now ?? Date.now;
    if (resolved.jwksUrl !== undefined) {
      const jwksDeps = { fetch: deps.fetch ?? ((url, init) => fetch(url, init)), now: this.#now, logger: deps.logger };
      this.#jwks = new JwksCache(resolved.jwksUrl, jwksDeps, resolved.jwksMinRefreshMs, resolved.jwksMaxAgeMs);
    }
  }

  /**
   * Optional warm-up for start-up: imports the static key for each allowed algorithm, or loads the
   * JWKS. Rejects with a sentence-case reason when that fails (the caller decides whether to stop).
   */
  async ready(): Promise<void> {
    if (this.#jwks) return this.#jwks.ready();
    const key = this.#opts.key!;
    for (const alg of this.#opts.algorithms) {
      await key.cryptoKey(alg).catch(() => {
        throw new Error(`The configured ${this.keyKind === "secret" ? "secret" : "public key"} could not be imported for ${alg}`);
      });
    }
  }

  /** Checks `token` and returns the identity it carries, or why it was refused. */
  async verify(token: string): Promise<VerifyResult> {
    try {
      return await this.#verify(token);
    } catch {
      return invalid("Token could not be verified");
    }
  }

  async #verify(token: string): Promise<VerifyResult> {
    if (typeof token !== "string" || token === "") return invalid("Token is missing");
    if (token.length > MAX_TOKEN_LENGTH) return invalid("Token is too long");
    if (!COMPACT_JWS.test(token)) return invalid("Token is malformed");
    let header: unknown;
    try {
      header = decodeHeader(token);
    } catch {
      return invalid("Token is malformed");
    }
    if (typeof header !== "object" || header === null || Array.isArray(header)) return invalid("Token header is invalid");
    const { alg, kid } = header as { alg?: unknown; kid?: unknown };
    if (typeof alg === "string" && alg.toLowerCase() === "none") return invalid("Token algorithm none is not allowed");
    // Only a known name is quoted back: `alg` comes from the token.
    if (!isAlgorithm(alg)) return invalid("Token algorithm is not supported");
    if (!this.#opts.algorithms.has(alg)) return invalid(`Token algorithm ${alg} is not allowed`);

    let key: VerificationKey;
    if (this.#jwks) {
      if (typeof kid !== "string" || kid === "") return invalid("Token has no key id (kid)");
      const found = await this.#jwks.lookup(kid);
      if (found === "unavailable") return { ok: false, code: "unavailable", reason: "Signing keys are unavailable" };
      if (found === "unknown") return invalid("Token key id (kid) is not known");
      key = found;
    } else {
      key = this.#opts.key!;
    }
    // The guard against algorithm confusion: the alg must fit this key's type (no HS256 with an
    // RSA key's PEM as the HMAC secret, no RS256 against an EC JWK), whatever the allow-list says.
    if (!key.algorithms.includes(alg)) return invalid(`Token algorithm ${alg} does not fit the key`);
    let cryptoKey: CryptoKey;
    try {
      cryptoKey = await key.cryptoKey(alg);
    } catch {
      return { ok: false, code: "unavailable", reason: "Verification key could not be imported" };
    }

    let payload: unknown;
    try {
      // Time claims are checked below with leeway and the injected clock; iss/aud after the
      // signature too, so nothing about them is revealed for a forged token.
      payload = await verifySignature(token, cryptoKey, { alg, exp: false, nbf: false, iat: false });
    } catch (e) {
      const name = e instanceof Error ? e.name : "";
      return invalid(HONO_REASONS[name] ?? "Token signature is invalid");
    }
    return checkClaims(payload, this.#now() / 1000, this.#opts);
  }
}
