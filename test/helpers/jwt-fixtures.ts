/**
 * Fixtures for the TokenVerifier unit tests (test/unit/auth-*.test.ts): a fixed clock, tokens
 * minted with WebCrypto directly (independent of the code under test), key pairs as PEM + PKCS#8,
 * and the check that a refusal gives the right reason without leaking the token.
 */
import { expect } from "bun:test";
import { type AuthOptions, TokenVerifier, type VerifyResult } from "../../src/auth/index.ts";

export const NOW_MS = 1_700_000_000_000;
export const NOW = NOW_MS / 1000;
export const SECRET = "test-secret-that-is-long-enough-0123456789";
export const enc = new TextEncoder();
export const b64u = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

// ---- minting (WebCrypto directly, independent of the code under test) ----
type Signer = string | ArrayBuffer; // HMAC secret or PKCS#8 private key
const HASH = (alg: string) => `SHA-${alg.slice(2)}`;
export function signAlgorithm(alg: string) {
  if (alg.startsWith("HS")) return { name: "HMAC", hash: HASH(alg) };
  if (alg.startsWith("RS")) return { name: "RSASSA-PKCS1-v1_5", hash: HASH(alg) };
  if (alg.startsWith("PS")) return { name: "RSA-PSS", hash: HASH(alg), saltLength: Number(alg.slice(2)) / 8 };
  if (alg.startsWith("ES")) return { name: "ECDSA", hash: HASH(alg), namedCurve: { ES256: "P-256", ES384: "P-384", ES512: "P-521" }[alg] };
  return { name: "Ed25519" };
}
export async function mint(payload: unknown, alg: string, signer: Signer, header: Record<string, unknown> = {}): Promise<string> {
  const input = `${b64u(JSON.stringify({ alg, typ: "JWT", ...header }))}.${b64u(JSON.stringify(payload))}`;
  const params = signAlgorithm(alg);
  const key =
    typeof signer === "string"
      ? await crypto.subtle.importKey("raw", enc.encode(signer), params, false, ["sign"])
      : await crypto.subtle.importKey("pkcs8", signer, params, false, ["sign"]);
  const sig = await crypto.subtle.sign(params, key, enc.encode(input));
  return `${input}.${b64u(new Uint8Array(sig))}`;
}
const toPem = (der: ArrayBuffer) =>
  `-----BEGIN PUBLIC KEY-----\n${Buffer.from(der).toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`;
export async function keyPair(params: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm) {
  const kp = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  return { pem: toPem(await crypto.subtle.exportKey("spki", kp.publicKey)), pkcs8: await crypto.subtle.exportKey("pkcs8", kp.privateKey) };
}
export type Pair = Awaited<ReturnType<typeof keyPair>>;

export const claims = (extra: Record<string, unknown> = {}) => ({ sub: "user-1", exp: NOW + 3600, ...extra });
/** The verifiers' clock: tests may move `clock.ms`, and must put it back to NOW_MS afterwards. */
export const clock = { ms: NOW_MS };
export const verifier = (opts: AuthOptions) => new TokenVerifier(opts, { now: () => clock.ms });

/** A refusal whose reason matches and does not leak any part of the token. */
export function expectRefused(r: VerifyResult, reason: RegExp | string, token: string, code = "invalid") {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  if (typeof reason === "string") expect(r.reason).toBe(reason);
  else expect(r.reason).toMatch(reason);
  expect(r.code).toBe(code as never);
  expect(r.reason).toMatch(/^[A-Z]/);
  for (const part of token.split(".")) if (part.length > 8) expect(r.reason).not.toContain(part);
}
