/**
 * Authentication options and their validation. {@link validateAuthOptions} is meant for
 * start-up (one line saying what is wrong); {@link resolveAuthOptions} turns valid options into
 * what the verifier uses.
 * @module
 */

import { type Algorithm, ALGORITHMS, ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, isAlgorithm } from "./algorithms.ts";
import { type VerificationKey, parsePublicKeyPem, secretKey } from "./keys.ts";

/** How tokens are verified. Exactly one of `secret`, `publicKey` and `jwksUrl` must be set. */
export interface AuthOptions {
  /** Shared HMAC secret (HS256/384/512), at least 32 bytes. */
  secret?: string;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`) of an RSA, EC P-256/384/521 or Ed25519 key. */
  publicKey?: string;
  /** URL of a JSON Web Key Set: `https:`, or `http:` to a loopback host only. */
  jwksUrl?: string;
  /**
   * The `alg` values accepted. `none` is never accepted, nor an `alg` that does not fit the key.
   * @default every algorithm the key type supports (HS* for a secret, RS and PS for an RSA key, the
   * curve's ES for an EC key, EdDSA for Ed25519, all asymmetric ones for a JWKS)
   */
  algorithms?: string[];
  /** Required `iss` claim; unchecked when unset. */
  issuer?: string;
  /** Required audience: the `aud` claim (a string or an array) must contain it; unchecked when unset. */
  audience?: string;
  /**
   * Clock skew tolerated for `exp`, `nbf` and `iat`, in seconds.
   * @default 5
   */
  leewaySec?: number;
  /**
   * Shortest time between two JWKS fetches, in seconds. An unknown `kid` triggers a refetch only
   * when the last one started at least this long ago, so a flood of made-up kids cannot hammer
   * the JWKS server.
   * @default 30
   */
  jwksMinRefreshSec?: number;
  /**
   * Age after which cached JWKS keys are refetched (so removed keys stop being accepted); if the
   * refetch fails the old keys stay in use.
   * @default 600
   */
  jwksMaxAgeSec?: number;
}

/** Where keys come from. */
export type KeyKind = "secret" | "public-key" | "jwks";

/** Valid options, with defaults applied and the static key parsed. */
export interface ResolvedAuthOptions {
  keyKind: KeyKind;
  /** The secret or public key; undefined for a JWKS. */
  key?: VerificationKey;
  jwksUrl?: string;
  algorithms: ReadonlySet<Algorithm>;
  issuer?: string;
  audience?: string;
  leewaySec: number;
  jwksMinRefreshMs: number;
  jwksMaxAgeMs: number;
}

/** Shortest shared secret accepted: RFC 7518 §3.2 wants a key at least as long as the hash. */
const MIN_SECRET_BYTES = 32;
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * Checks options before start-up: returns a one-line, sentence-case reason, or null when valid.
 * Fails when none or more than one key source is set, on a short secret, an unparsable or
 * unsupported PEM, a non-https JWKS URL, an unknown algorithm, `none`, or an algorithm that does
 * not fit the key. An empty string counts as unset.
 */
export function validateAuthOptions(opts: AuthOptions): string | null {
  const r = resolveAuthOptions(opts);
  return typeof r === "string" ? r : null;
}

/** The options with defaults applied and the key parsed, or the reason they are invalid. */
export function resolveAuthOptions(opts: AuthOptions): ResolvedAuthOptions | string {
  if (typeof opts !== "object" || opts === null) return "Auth options must be an object";
  const sources = (["secret", "publicKey", "jwksUrl"] as const).filter((k) => opts[k] !== undefined && opts[k] !== "");
  if (sources.length !== 1) {
    const got = sources.length ? ` (got ${sources.join(" and ")})` : "";
    return `Set exactly one of secret, publicKey or jwksUrl${got}`;
  }
  for (const k of ["secret", "publicKey", "jwksUrl", "issuer", "audience"] as const) {
    if (opts[k] !== undefined && typeof opts[k] !== "string") return `${k} must be a string`;
  }
  for (const k of ["issuer", "audience"] as const) if (opts[k] === "") return `${k} must not be empty when set`;

  let keyKind: KeyKind;
  let key: VerificationKey | undefined;
  let fits: readonly Algorithm[];
  let what: string;
  if (sources[0] === "secret") {
    const secret = opts.secret!;
    if (secret.includes("-----BEGIN")) return "secret looks like a PEM key; pass it as publicKey instead";
    if (new TextEncoder().encode(secret).length < MIN_SECRET_BYTES) {
      return `secret must be at least ${MIN_SECRET_BYTES} bytes long`;
    }
    keyKind = "secret";
    key = secretKey(secret);
    fits = HMAC_ALGORITHMS;
    what = "a shared secret";
  } else if (sources[0] === "publicKey") {
    const pem = parsePublicKeyPem(opts.publicKey!);
    if (!pem.ok) return pem.reason;
    keyKind = "public-key";
    key = pem.key;
    fits = key.algorithms;
    what = pem.type === "RSA" ? "an RSA key" : pem.type === "Ed25519" ? "an Ed25519 key" : `a ${pem.type} key`;
  } else {
    let url: URL;
    try {
      url = new URL(opts.jwksUrl!);
    } catch {
      return "jwksUrl is not a valid URL";
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.test(url.hostname))) {
      return "jwksUrl must use https (plain http is allowed only for localhost)";
    }
    keyKind = "jwks";
    fits = ASYMMETRIC_ALGORITHMS;
    what = "a JWKS";
  }

  let algorithms: Algorithm[] = [...fits];
  if (opts.algorithms !== undefined) {
    if (!Array.isArray(opts.algorithms)) return "algorithms must be a list of JWS algorithm names";
    if (opts.algorithms.length === 0) return "algorithms must name at least one algorithm";
    algorithms = [];
    for (const a of opts.algorithms) {
      if (typeof a === "string" && a.toLowerCase() === "none") return "Algorithm none is never allowed";
      if (!isAlgorithm(a)) return `Unknown algorithm "${String(a)}" (known: ${ALGORITHMS.join(", ")})`;
      if (!fits.includes(a)) return `Algorithm ${a} does not fit ${what} (use ${fits.join(", ")})`;
      algorithms.push(a);
    }
  }

  const num = (name: string, v: number | undefined, dflt: number, max: number): number | string => {
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > max) return `${name} must be a number from 0 to ${max}`;
    return v;
  };
  const leewaySec = num("leewaySec", opts.leewaySec, 5, 600);
  const minRefresh = num("jwksMinRefreshSec", opts.jwksMinRefreshSec, 30, 86_400);
  const maxAge = num("jwksMaxAgeSec", opts.jwksMaxAgeSec, 600, 7 * 86_400);
  for (const v of [leewaySec, minRefresh, maxAge]) if (typeof v === "string") return v;

  return {
    keyKind,
    key,
    jwksUrl: keyKind === "jwks" ? opts.jwksUrl : undefined,
    algorithms: new Set(algorithms),
    issuer: opts.issuer,
    audience: opts.audience,
    leewaySec: leewaySec as number,
    jwksMinRefreshMs: (minRefresh as number) * 1000,
    jwksMaxAgeMs: (maxAge as number) * 1000,
  };
}
