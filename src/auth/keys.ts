/**
 * Verification keys: a shared secret, an SPKI PEM public key or one JWK, each imported into
 * WebCrypto lazily and at most once per algorithm (the CryptoKey is cached, not rebuilt per
 * token). Also a small DER reader that tells the type of a PEM key without importing it, so a
 * bad key can stop start-up synchronously.
 * @module
 */

import { type Algorithm, type Curve, algorithmsForKey, importParams } from "./algorithms.ts";

/** A key that verifies tokens with any of `algorithms`. */
export class VerificationKey {
  readonly #format: "raw" | "spki" | "jwk";
  readonly #data: Uint8Array | JsonWebKey;
  readonly #imported = new Map<Algorithm, Promise<CryptoKey>>();

  /** `algorithms` are those the key type (and, for a JWK, its `alg`) allows. */
  constructor(format: "raw" | "spki" | "jwk", data: Uint8Array | JsonWebKey, readonly algorithms: readonly Algorithm[]) {
    this.#format = format;
    this.#data = data;
  }

  /** The CryptoKey for `alg`, imported on first use. Rejects when the key material is unusable. */
  cryptoKey(alg: Algorithm): Promise<CryptoKey> {
    let key = this.#imported.get(alg);
    if (!key) {
      key =
        this.#format === "jwk"
          ? crypto.subtle.importKey("jwk", this.#data as JsonWebKey, importParams(alg), false, ["verify"])
          : crypto.subtle.importKey(this.#format, this.#data as Uint8Array<ArrayBuffer>, importParams(alg), false, ["verify"]);
      // A failed import stays cached: the same bytes would fail again.
      this.#imported.set(alg, key);
    }
    return key;
  }
}

/** A shared HMAC secret (its UTF-8 bytes are the key). */
export function secretKey(secret: string): VerificationKey {
  return new VerificationKey("raw", new TextEncoder().encode(secret), algorithmsForKey("secret"));
}

/** A parsed PEM public key, or why it cannot be used. */
export type PemResult = { ok: true; key: VerificationKey; type: "RSA" | Curve } | { ok: false; reason: string };

const OID_RSA = "2a864886f70d010101";
const OID_EC = "2a8648ce3d0201";
const OID_ED25519 = "2b6570";
const CURVES: Record<string, Curve> = { "2a8648ce3d030107": "P-256", "2b81040022": "P-384", "2b81040023": "P-521" };

/**
 * Reads an SPKI (`-----BEGIN PUBLIC KEY-----`) PEM holding an RSA, P-256/384/521 or Ed25519 key.
 * Literal `\n` sequences are read as newlines, since a PEM pasted into one environment variable
 * often arrives that way.
 */
export function parsePublicKeyPem(pem: string): PemResult {
  const text = pem.replace(/\\n/g, "\n");
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return fail("publicKey is not a PEM block (expected -----BEGIN PUBLIC KEY-----)");
  const label = m[1]!;
  if (label.includes("PRIVATE")) return fail("publicKey holds a private key; give the public key");
  if (label === "RSA PUBLIC KEY") return fail('publicKey is a PKCS#1 "RSA PUBLIC KEY"; convert it to an SPKI "PUBLIC KEY" PEM');
  if (label === "CERTIFICATE") return fail("publicKey is a certificate; give its public key (openssl x509 -pubkey -noout)");
  if (label !== "PUBLIC KEY") return fail(`publicKey has an unsupported PEM label "${label}"`);
  let der: Uint8Array<ArrayBuffer>;
  try {
    const bin = atob(m[2]!.replace(/\s+/g, ""));
    der = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return fail("publicKey is not valid base64 inside its PEM markers");
  }
  const type = spkiKeyType(der);
  if (typeof type !== "string") return fail(type.reason);
  return { ok: true, type, key: new VerificationKey("spki", der, algorithmsForKey(type)) };
}

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** One DER tag-length-value: where its content starts and ends. */
function tlv(b: Uint8Array, at: number, tag: number): { start: number; end: number } | null {
  if (at + 2 > b.length || b[at] !== tag) return null;
  let len = b[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 3 || p + n > b.length) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p++]!;
  }
  return p + len > b.length ? null : { start: p, end: p + len };
}

const hex = (b: Uint8Array, start: number, end: number) =>
  Array.from(b.subarray(start, end), (x) => x.toString(16).padStart(2, "0")).join("");

/** The key type of SPKI DER: SEQUENCE { SEQUENCE { OID, params? }, BIT STRING }. */
function spkiKeyType(der: Uint8Array): "RSA" | Curve | { reason: string } {
  const bad = { reason: "publicKey is not a valid SPKI public key" };
  const outer = tlv(der, 0, 0x30);
  if (!outer || outer.end !== der.length) return bad;
  const algId = tlv(der, outer.start, 0x30);
  if (!algId) return bad;
  const oid = tlv(der, algId.start, 0x06);
  const bits = tlv(der, algId.end, 0x03);
  if (!oid || !bits || bits.end !== outer.end) return bad;
  const kind = hex(der, oid.start, oid.end);
  if (kind === OID_RSA) return "RSA";
  if (kind === OID_ED25519) return "Ed25519";
  if (kind === OID_EC) {
    const curve = tlv(der, oid.end, 0x06);
    const name = curve && CURVES[hex(der, curve.start, curve.end)];
    return name || { reason: "publicKey uses an unsupported elliptic curve (use P-256, P-384 or P-521)" };
  }
  return { reason: "publicKey has an unsupported key type (use RSA, EC P-256/384/521 or Ed25519)" };
}

/**
 * A verification key from one JWKS entry, or null when the entry cannot verify signatures
 * (unknown `kty`/`crv`, `use` other than `sig`, `key_ops` without `verify`, or an `alg` that
 * does not fit the key). Only the public members are kept, so a published private JWK is
 * never imported as such.
 */
export function jwkKey(jwk: Record<string, unknown>): VerificationKey | null {
  const str = (k: string) => (typeof jwk[k] === "string" && jwk[k] !== "" ? (jwk[k] as string) : undefined);
  if (jwk.use !== undefined && jwk.use !== "sig") return null;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))) return null;
  let type: "RSA" | Curve;
  let pub: JsonWebKey;
  const crv = str("crv");
  if (jwk.kty === "RSA" && str("n") && str("e")) {
    type = "RSA";
    pub = { kty: "RSA", n: str("n"), e: str("e") };
  } else if (jwk.kty === "EC" && (crv === "P-256" || crv === "P-384" || crv === "P-521") && str("x") && str("y")) {
    type = crv;
    pub = { kty: "EC", crv, x: str("x"), y: str("y") };
  } else if (jwk.kty === "OKP" && crv === "Ed25519" && str("x")) {
    type = "Ed25519";
    pub = { kty: "OKP", crv, x: str("x") };
  } else {
    return null;
  }
  let algorithms = algorithmsForKey(type);
  if (jwk.alg !== undefined) {
    // RFC 9864 names Ed25519 keys `alg: "Ed25519"` (WebCrypto exports them so); tokens still say EdDSA.
    const alg = jwk.alg === "Ed25519" ? "EdDSA" : jwk.alg;
    algorithms = algorithms.filter((a) => a === alg);
    if (algorithms.length === 0) return null;
  }
  return new VerificationKey("jwk", pub, algorithms);
}
