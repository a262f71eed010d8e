/**
 * JWT authentication: verify a token against a shared secret, a PEM public key or a JWKS, and
 * read the identity and room grants it carries. Pure: no server wiring here.
 *
 * ```ts
 * const reason = validateAuthOptions(opts); // at start-up: stop with this line if not null
 * const verifier = new TokenVerifier(opts, { fetch, now: clock.now });
 * const result = await verifier.verify(tokenFrom(c.req) ?? "");
 * if (result.ok && roomAllowed(result.identity.rooms, room)) …
 * ```
 * @module
 */

export { ALGORITHMS, type Algorithm } from "./algorithms.ts";
export { type TokenIdentity, type VerifyFailureCode, type VerifyResult, roomAllowed } from "./claims.ts";
export { type AuthOptions, type KeyKind, validateAuthOptions } from "./options.ts";
export { type TokenSource, tokenFrom } from "./request.ts";
export type { FetchLike } from "./jwks.ts";
export { MAX_TOKEN_LENGTH, TokenVerifier, type VerifierDeps } from "./verifier.ts";
