/**
 * What a verified token grants: the claim checks (time with leeway, issuer, audience) and the
 * identity (`sub`/`user_id`, `client_id`, `rooms`, `exp`). Also {@link roomAllowed}, the check
 * of a room against the `rooms` claim. Reasons never quote claim values, since those come from
 * the token.
 * @module
 */

/** Who a token identifies and what it allows. */
export interface TokenIdentity {
  /** From `sub`, or the `user_id` claim when there is no `sub`. */
  userId: string;
  /** From the `client_id` claim. */
  clientId?: string;
  /** Room patterns from the `rooms` claim (`*` matches any run of characters); undefined = any room. */
  rooms?: string[];
  /** Expiry, unix seconds. */
  exp: number;
  /** Room patterns from the `moderates` claim: rooms this user may moderate (POST /moderation/*). */
  moderates?: string[];
}

/** Why a token was refused: `expired` (get a fresh token), `unavailable` (server-side key trouble: retry later) or `invalid`. */
export type VerifyFailureCode = "invalid" | "expired" | "unavailable";

/** The outcome of a verification. `reason` is sentence case and never contains the token. */
export type VerifyResult =
  | { ok: true; identity: TokenIdentity }
  | { ok: false; code: VerifyFailureCode; reason: string };

/** The claim checks of {@link checkClaims}. */
export interface ClaimRules {
  issuer?: string;
  audience?: string;
  leewaySec: number;
}

// Same rule as user_id/client_id in the upgrade URL: printable ASCII (0x21–0x7E), no space.
const ID = /^[\x21-\x7e]{1,128}$/;
/** Most room patterns one token may carry. */
const MAX_ROOMS = 1000;

/** A refusal with code `invalid`. */
export const invalid = (reason: string): VerifyResult => ({ ok: false, code: "invalid", reason });

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * Checks the claims of a payload whose signature is already verified, and extracts the identity.
 * `nowSec` may be fractional. A token is expired from `exp + leeway` on, and not yet valid before
 * `nbf - leeway`; an `iat` later than `now + leeway` is refused.
 */
export function checkClaims(payload: unknown, nowSec: number, rules: ClaimRules): VerifyResult {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return invalid("Token payload is not a JSON object");
  const p = payload as Record<string, unknown>;
  const leeway = rules.leewaySec;

  if (p.exp === undefined || p.exp === null) return invalid("Token has no expiry (exp)");
  if (!isNumber(p.exp)) return invalid("Token exp claim is not a number");
  if (nowSec >= p.exp + leeway) return { ok: false, code: "expired", reason: "Token has expired" };
  if (p.nbf !== undefined) {
    if (!isNumber(p.nbf)) return invalid("Token nbf claim is not a number");
    if (nowSec < p.nbf - leeway) return invalid("Token is not valid yet (nbf)");
  }
  if (p.iat !== undefined) {
    if (!isNumber(p.iat)) return invalid("Token iat claim is not a number");
    if (p.iat > nowSec + leeway) return invalid("Token was issued in the future (iat)");
  }
  if (rules.issuer !== undefined && p.iss !== rules.issuer) return invalid("Token issuer does not match");
  if (rules.audience !== undefined) {
    const aud = Array.isArray(p.aud) ? p.aud : [p.aud];
    if (!aud.includes(rules.audience)) return invalid("Token audience does not match");
  }

  const userId = p.sub ?? p.user_id;
  if (userId === undefined) return invalid("Token has no subject (sub or user_id)");
  if (typeof userId !== "string" || !ID.test(userId)) {
    return invalid("Token subject must be 1-128 printable ASCII characters without spaces");
  }
  const clientId = p.client_id ?? undefined;
  if (clientId !== undefined && (typeof clientId !== "string" || !ID.test(clientId))) {
    return invalid("Token client_id claim must be 1-128 printable ASCII characters without spaces");
  }
  // Only an absent claim means "any room": `rooms: null` is refused rather than read as a grant.
  const rooms = p.rooms;
  if (rooms !== undefined && !validPatterns(rooms)) return invalid(`Token rooms claim must be an array of at most ${MAX_ROOMS} non-empty strings`);

  const moderates = p.moderates;
  if (moderates !== undefined && !validPatterns(moderates)) {
    return invalid(`Token moderates claim must be an array of at most ${MAX_ROOMS} non-empty strings`);
  }

  const identity: TokenIdentity = { userId, exp: p.exp };
  if (clientId !== undefined) identity.clientId = clientId;
  if (rooms !== undefined) identity.rooms = [...(rooms as string[])];
  if (moderates !== undefined) identity.moderates = [...(moderates as string[])];
  return { ok: true, identity };
}

/** A `rooms` / `moderates` claim: at most MAX_ROOMS strings of 1–256 characters. */
function validPatterns(v: unknown): boolean {
  return Array.isArray(v) && v.length <= MAX_ROOMS && v.every((r) => typeof r === "string" && r.length > 0 && r.length <= 256);
}

/**
 * True when `room` matches one of the patterns; `rooms` undefined (no claim) allows any room and
 * an empty list allows none. `*` matches any run of characters (including none); everything else
 * matches itself, case-sensitively.
 */
export function roomAllowed(rooms: readonly string[] | undefined, room: string): boolean {
  if (rooms === undefined) return true;
  return rooms.some((pattern) => wildcardMatch(pattern, room));
}

// Iterative matcher with one backtrack point (no RegExp built from token data, so no ReDoS):
// O(pattern × text) in the worst case, linear in practice.
function wildcardMatch(pattern: string, text: string): boolean {
  if (!pattern.includes("*")) return pattern === text;
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      mark = t;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}
