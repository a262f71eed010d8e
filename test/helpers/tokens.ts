/** Real JWTs for tests, signed with WebCrypto: HS*, RS*, ES256, EdDSA, and `alg: none`. */
const enc = new TextEncoder();
const b64u = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

/** A test secret (≥ 32 bytes). */
export const SECRET = "graphwiz-test-secret-0123456789abcdef";

function params(alg: string): AlgorithmIdentifier | RsaHashedImportParams | EcKeyImportParams | HmacImportParams {
  const hash = `SHA-${alg.slice(2)}`;
  if (alg.startsWith("HS")) return { name: "HMAC", hash };
  if (alg.startsWith("RS")) return { name: "RSASSA-PKCS1-v1_5", hash };
  if (alg === "ES256") return { name: "ECDSA", hash: "SHA-256", namedCurve: "P-256" } as EcKeyImportParams;
  return { name: "Ed25519" };
}

/** Seconds since the epoch. */
export const nowS = () => Math.floor(Date.now() / 1000);

/**
 * Signs `payload` (default: `sub: "u1"`, exp in an hour). `signer` is an HMAC secret or a
 * private CryptoKey; `alg: "none"` gives an unsigned token.
 */
export async function mint(payload: Record<string, unknown> = {}, alg = "HS256", signer: string | CryptoKey = SECRET, header: Record<string, unknown> = {}): Promise<string> {
  const body = { sub: "u1", exp: nowS() + 3600, ...payload };
  const input = `${b64u(JSON.stringify({ alg, typ: "JWT", ...header }))}.${b64u(JSON.stringify(body))}`;
  if (alg === "none") return `${input}.`;
  const p = params(alg);
  const key = typeof signer === "string" ? await crypto.subtle.importKey("raw", enc.encode(signer), p, false, ["sign"]) : signer;
  const sigParams = alg === "ES256" ? { name: "ECDSA", hash: "SHA-256" } : p;
  return `${input}.${b64u(new Uint8Array(await crypto.subtle.sign(sigParams, key, enc.encode(input))))}`;
}

/** An ES256 or RS256 key pair with its public key as SPKI PEM and as a JWK (with `kid`). */
export async function keyPair(alg: "ES256" | "RS256", kid = "k1") {
  const gen = alg === "ES256"
    ? { name: "ECDSA", namedCurve: "P-256" }
    : { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  const kp = (await crypto.subtle.generateKey(gen, true, ["sign", "verify"])) as CryptoKeyPair;
  const spki = Buffer.from(await crypto.subtle.exportKey("spki", kp.publicKey)).toString("base64");
  const pem = `-----BEGIN PUBLIC KEY-----\n${spki.match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`;
  const jwk = { ...(await crypto.subtle.exportKey("jwk", kp.publicKey)), kid, use: "sig", alg };
  return { privateKey: kp.privateKey, pem, jwk, kid };
}

/** Serves `{ keys }` as a JWKS on 127.0.0.1; returns its URL and a stop function. */
export function serveJwks(keys: unknown[]) {
  let hits = 0;
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => (hits++, Response.json({ keys })) });
  return { url: `http://127.0.0.1:${server.port}/jwks.json`, hits: () => hits, stop: () => server.stop(true) };
}
