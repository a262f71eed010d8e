/** JWT verification against a JWKS served by a real local HTTP server: caching, rotation, rate limit. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { TokenVerifier, type VerifyResult } from "../../src/auth/index.ts";
import { createLogger } from "../../src/log.ts";

const T0 = 1_700_000_000_000;
const enc = new TextEncoder();
const b64u = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");
const HASH = (alg: string) => `SHA-${alg.slice(2)}`;
function signAlgorithm(alg: string) {
  if (alg.startsWith("HS")) return { name: "HMAC", hash: HASH(alg) };
  if (alg.startsWith("RS")) return { name: "RSASSA-PKCS1-v1_5", hash: HASH(alg) };
  if (alg.startsWith("PS")) return { name: "RSA-PSS", hash: HASH(alg), saltLength: Number(alg.slice(2)) / 8 };
  if (alg === "ES256") return { name: "ECDSA", hash: "SHA-256", namedCurve: "P-256" };
  return { name: "Ed25519" };
}
/** A token signed with WebCrypto; `signer` is an HMAC secret or a PKCS#8 private key. */
async function mint(alg: string, signer: string | ArrayBuffer, header: Record<string, unknown>, payload: object = {}) {
  const body = { sub: "user-1", exp: T0 / 1000 + 3600, ...payload };
  const input = `${b64u(JSON.stringify({ alg, typ: "JWT", ...header }))}.${b64u(JSON.stringify(body))}`;
  const params = signAlgorithm(alg);
  const key = typeof signer === "string"
    ? await crypto.subtle.importKey("raw", enc.encode(signer), params, false, ["sign"])
    : await crypto.subtle.importKey("pkcs8", signer, params, false, ["sign"]);
  return `${input}.${b64u(new Uint8Array(await crypto.subtle.sign(params, key, enc.encode(input))))}`;
}
/** A key pair: the public JWK (with kid) for the set and the PKCS#8 private key for signing. */
async function jwkPair(params: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm, kid: string) {
  const kp = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = { ...(await crypto.subtle.exportKey("jwk", kp.publicKey)), kid, use: "sig" };
  return { jwk, pkcs8: await crypto.subtle.exportKey("pkcs8", kp.privateKey) };
}
type Pair = Awaited<ReturnType<typeof jwkPair>>;

// ---- the JWKS server ----
let served: unknown;
let hits = 0;
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch() {
    hits++;
    if (served === 503) return new Response("down", { status: 503 });
    return typeof served === "string" ? new Response(served) : Response.json(served);
  },
});
const url = `http://127.0.0.1:${server.port}/.well-known/jwks.json`;
afterAll(() => server.stop(true));

let rsa: Pair, ec: Pair, ed: Pair, rotated: Pair;
const set = (...pairs: Pair[]) => ({ keys: pairs.map((p) => p.jwk) });
beforeAll(async () => {
  const rsaParams = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  [rsa, ec, ed, rotated] = await Promise.all([
    jwkPair(rsaParams, "k-rsa"),
    jwkPair({ name: "ECDSA", namedCurve: "P-256" }, "k-ec"),
    jwkPair({ name: "Ed25519" }, "k-ed"),
    jwkPair(rsaParams, "k-new"),
  ]);
});

let clock = T0;
let fetchCalls = 0;
let logLines: string[] = [];
beforeEach(() => {
  clock = T0;
  hits = 0;
  fetchCalls = 0;
  logLines = [];
  served = set(rsa, ec, ed);
});
const verifier = (extra: object = {}) =>
  new TokenVerifier({ jwksUrl: url, ...extra }, {
    now: () => clock,
    fetch: (u, init) => (fetchCalls++, fetch(u, init)),
    logger: createLogger("debug", (l) => logLines.push(l)),
  });
const rsaToken = (kid = "k-rsa", payload: object = {}) => mint("RS256", rsa.pkcs8, { kid }, payload);
const refused = (r: VerifyResult, reason: string, code = "invalid") => expect(r).toEqual({ ok: false, code, reason } as VerifyResult);

describe("JWKS", () => {
  test("verifies RS256, ES256 and EdDSA keys from the set, fetching it once", async () => {
    const v = verifier();
    expect(await v.verify(await rsaToken())).toEqual({ ok: true, identity: { userId: "user-1", exp: T0 / 1000 + 3600 } });
    expect((await v.verify(await mint("ES256", ec.pkcs8, { kid: "k-ec" }))).ok).toBe(true);
    // WebCrypto exports the Ed25519 JWK with the RFC 9864 name `alg: "Ed25519"`; tokens say EdDSA.
    expect(ed.jwk.alg).toBe("Ed25519");
    expect((await v.verify(await mint("EdDSA", ed.pkcs8, { kid: "k-ed" }))).ok).toBe(true);
    const t = await rsaToken();
    const many = await Promise.all(Array.from({ length: 20 }, () => v.verify(t)));
    expect(many.every((r) => r.ok)).toBe(true);
    expect([hits, fetchCalls]).toEqual([1, 1]);
    expect(logLines.some((l) => l.includes('"auth.jwks_loaded"') && l.includes('"keys":3'))).toBe(true);
  });

  test("concurrent first verifications share one fetch", async () => {
    const v = verifier();
    const t = await rsaToken();
    const results = await Promise.all(Array.from({ length: 50 }, () => v.verify(t)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(hits).toBe(1);
  });

  test("an unknown kid refetches the set (key rotation)", async () => {
    const v = verifier();
    expect((await v.verify(await rsaToken())).ok).toBe(true);
    served = set(rotated);
    clock += 31_000;
    const r = await v.verify(await mint("RS256", rotated.pkcs8, { kid: "k-new" }));
    expect(r.ok).toBe(true);
    expect(hits).toBe(2);
    // k-rsa is gone from the new set, and the refetch it would trigger is inside the interval.
    refused(await v.verify(await rsaToken()), "Token key id (kid) is not known");
    expect(hits).toBe(2);
  });

  test("refetches for unknown kids happen at most once per jwksMinRefreshSec", async () => {
    const v = verifier();
    expect((await v.verify(await rsaToken())).ok).toBe(true);
    const random = await Promise.all(Array.from({ length: 100 }, (_, i) => rsaToken(`made-up-${i}`)));
    for (const t of random) refused(await v.verify(t), "Token key id (kid) is not known");
    expect(hits).toBe(1);

    served = set(rsa, rotated);
    const fresh = await mint("RS256", rotated.pkcs8, { kid: "k-new" });
    clock = T0 + 29_999;
    refused(await v.verify(fresh), "Token key id (kid) is not known");
    expect(hits).toBe(1);
    clock = T0 + 30_000;
    expect((await v.verify(fresh)).ok).toBe(true);
    expect(hits).toBe(2);

    clock = T0 + 45_000;
    await Promise.all(random.map((t) => v.verify(t)));
    expect(hits).toBe(2);
    clock = T0 + 60_000;
    await Promise.all(random.map((t) => v.verify(t)));
    expect(hits).toBe(3);
  });

  test("jwksMinRefreshSec is configurable", async () => {
    const v = verifier({ jwksMinRefreshSec: 5 });
    await v.verify(await rsaToken());
    clock += 5_000;
    await v.verify(await rsaToken("unknown"));
    expect(hits).toBe(2);
  });

  test("the set is refetched once older than jwksMaxAgeSec, dropping removed keys", async () => {
    const v = verifier();
    expect((await v.verify(await rsaToken())).ok).toBe(true);
    served = set(ec);
    clock = T0 + 599_999;
    expect((await v.verify(await rsaToken())).ok).toBe(true);
    expect(hits).toBe(1);
    clock = T0 + 600_000;
    refused(await v.verify(await rsaToken()), "Token key id (kid) is not known");
    expect(hits).toBe(2);
  });

  test("an outage: unavailable before the first load, old keys kept after", async () => {
    served = 503;
    const v = verifier();
    const t = await rsaToken();
    refused(await v.verify(t), "Signing keys are unavailable", "unavailable");
    refused(await v.verify(t), "Signing keys are unavailable", "unavailable");
    expect(hits).toBe(1);
    await expect(v.ready()).rejects.toThrow("Could not load the JWKS: the server answered HTTP 503");
    expect(logLines.some((l) => l.includes('"auth.jwks_fetch_failed"') && l.includes("HTTP 503"))).toBe(true);

    served = set(rsa);
    clock += 30_000;
    expect((await v.verify(t)).ok).toBe(true);
    served = 503;
    clock += 600_000;
    expect((await v.verify(t)).ok).toBe(true);
    expect(hits).toBe(3);
  });

  test("a malformed document counts as a failed fetch", async () => {
    for (const body of ["not json", { keys: "nope" }, []]) {
      served = body;
      refused(await verifier().verify(await rsaToken()), "Signing keys are unavailable", "unavailable");
    }
  });

  test("ready() loads the set ahead of the first token", async () => {
    const v = verifier();
    await v.ready();
    expect(hits).toBe(1);
    expect((await v.verify(await rsaToken())).ok).toBe(true);
    expect(hits).toBe(1);
  });
});

describe("JWKS key and algorithm checks", () => {
  test("a token without kid, or with a symmetric alg, is refused without a fetch", async () => {
    const v = verifier();
    refused(await v.verify(await mint("RS256", rsa.pkcs8, {})), "Token has no key id (kid)");
    refused(await v.verify(await mint("HS256", "k-rsa", { kid: "k-rsa" })), "Token algorithm HS256 is not allowed");
    expect(hits).toBe(0);
  });

  test("the alg must fit the key the kid names", async () => {
    const v = verifier();
    // An RS256 token (valid RSA signature) naming the EC key's kid.
    refused(await v.verify(await mint("RS256", rsa.pkcs8, { kid: "k-ec" })), "Token algorithm RS256 does not fit the key");
    // The exported RSA JWK says alg RS256, so PS256 with the same key is refused.
    expect(rsa.jwk.alg).toBe("RS256");
    refused(await v.verify(await mint("PS256", rsa.pkcs8, { kid: "k-rsa" })), "Token algorithm PS256 does not fit the key");
    // And HS* cannot even be put on the allow-list of a JWKS verifier.
    expect(() => verifier({ algorithms: ["HS256"] })).toThrow("Algorithm HS256 does not fit a JWKS");
  });

  test("a JWK without alg accepts every algorithm of its type", async () => {
    const { alg: _alg, ...noAlg } = rsa.jwk;
    served = { keys: [{ ...noAlg, kid: "k-any" }] };
    const v = verifier();
    expect((await v.verify(await mint("PS256", rsa.pkcs8, { kid: "k-any" }))).ok).toBe(true);
    expect((await v.verify(await mint("RS256", rsa.pkcs8, { kid: "k-any" }))).ok).toBe(true);
  });

  test("keys that cannot verify are skipped", async () => {
    served = {
      keys: [
        { ...rsa.jwk, kid: "k-enc", use: "enc" },
        { ...rsa.jwk, kid: "k-ops", key_ops: ["encrypt"] },
        { kty: "oct", k: b64u("secret"), kid: "k-oct" },
        { ...rsa.jwk, kid: undefined },
        "garbage",
        rsa.jwk,
      ],
    };
    const v = verifier();
    for (const kid of ["k-enc", "k-ops"]) refused(await v.verify(await rsaToken(kid)), "Token key id (kid) is not known");
    expect((await v.verify(await rsaToken())).ok).toBe(true);
    expect(logLines.some((l) => l.includes('"keys":1') && l.includes('"skipped":5'))).toBe(true);
  });

  test("a bad signature under a known kid does not refetch", async () => {
    const v = verifier();
    refused(await v.verify(await mint("RS256", rotated.pkcs8, { kid: "k-rsa" })), "Token signature is invalid");
    clock += 60_000;
    refused(await v.verify(await mint("RS256", rotated.pkcs8, { kid: "k-rsa" })), "Token signature is invalid");
    expect(hits).toBe(1);
  });

  test("claims are still checked for JWKS tokens", async () => {
    const v = verifier({ issuer: "https://idp", audience: "ws" });
    refused(await v.verify(await rsaToken("k-rsa", { iss: "https://idp", aud: "other" })), "Token audience does not match");
    expect((await v.verify(await rsaToken("k-rsa", { iss: "https://idp", aud: ["ws"] }))).ok).toBe(true);
    refused(await v.verify(await rsaToken("k-rsa", { exp: T0 / 1000 - 10 })), "Token has expired", "expired");
  });
});
