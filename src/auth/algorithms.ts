/**
 * The JWS algorithms graphwiz-ws accepts (the ones hono/jwt implements) and the WebCrypto
 * parameters each needs. A CryptoKey is bound to one algorithm and hash at import, so a key is
 * imported once per algorithm it is used with.
 * @module
 */

/** HMAC algorithms, for a shared secret. */
export const HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"] as const;
/** RSA algorithms (PKCS#1 v1.5 and PSS), for an RSA public key. */
export const RSA_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"] as const;
/** ECDSA algorithms; each is tied to one curve (ES256 ↔ P-256, ES384 ↔ P-384, ES512 ↔ P-521). */
export const EC_ALGORITHMS = ["ES256", "ES384", "ES512"] as const;
/** Every asymmetric algorithm (public key or JWKS). */
export const ASYMMETRIC_ALGORITHMS = [...RSA_ALGORITHMS, ...EC_ALGORITHMS, "EdDSA"] as const;
/** Every algorithm graphwiz-ws knows. `none` is deliberately absent and can never be allowed. */
export const ALGORITHMS = [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS] as const;

/** One of {@link ALGORITHMS}. */
export type Algorithm = (typeof ALGORITHMS)[number];

/** An elliptic curve named in a key. */
export type Curve = "P-256" | "P-384" | "P-521" | "Ed25519";

/** True when `alg` is a name in {@link ALGORITHMS} (case-sensitive, as JWS requires). */
export function isAlgorithm(alg: unknown): alg is Algorithm {
  return typeof alg === "string" && (ALGORITHMS as readonly string[]).includes(alg);
}

/** The algorithms a key of this type can verify. */
export function algorithmsForKey(type: "secret" | "RSA" | Curve): readonly Algorithm[] {
  switch (type) {
    case "secret":
      return HMAC_ALGORITHMS;
    case "RSA":
      return RSA_ALGORITHMS;
    case "P-256":
      return ["ES256"];
    case "P-384":
      return ["ES384"];
    case "P-521":
      return ["ES512"];
    case "Ed25519":
      return ["EdDSA"];
  }
}

const hashOf = (alg: Algorithm) => `SHA-${alg.slice(2)}`;

/** The WebCrypto `importKey` parameters for verifying `alg`. */
export function importParams(alg: Algorithm): AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams | HmacImportParams {
  switch (alg.slice(0, 2)) {
    case "HS":
      return { name: "HMAC", hash: hashOf(alg) };
    case "RS":
      return { name: "RSASSA-PKCS1-v1_5", hash: hashOf(alg) };
    case "PS":
      return { name: "RSA-PSS", hash: hashOf(alg) };
    case "ES":
      return { name: "ECDSA", namedCurve: alg === "ES256" ? "P-256" : alg === "ES384" ? "P-384" : "P-521" };
    default:
      return { name: "Ed25519" };
  }
}
