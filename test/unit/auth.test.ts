/** JWT verification with a shared secret or a PEM public key: signatures, algorithms, claims. */
import { afterEach, beforeAll, describe, expect, spyOn, test } from "bun:test";
import fc from "fast-check";
import { sign } from "hono/utils/jwt/jwt";
import { type AuthOptions, MAX_TOKEN_LENGTH, TokenVerifier, type VerifyResult } from "../../src/auth/index.ts";

const NOW_MS = 1_700_000_000_000;
const NOW = NOW_MS / 1000;
const SECRET = "test-secret-that-is-long-enough-0123456789";
const enc = new TextEncoder();
const b64u = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

// ---- minting (WebCrypto directly, independent of the code under test) ----
type Signer = string | ArrayBuffer; // HMAC secret or PKCS#8 private key
const HASH = (alg: string) => `SHA-${alg.slice(2)}`;
function signAlgorithm(alg: string) {
  if (alg.startsWith("HS")) return { name: "HMAC", hash: HASH(alg) };
  if (alg.startsWith("RS")) return { name: "RSASSA-PKCS1-v1_5", hash: HASH(alg) };
  if (alg.startsWith("PS")) return { name: "RSA-PSS", hash: HASH(alg), saltLength: Number(alg.slice(2)) / 8 };
  if (alg.startsWith("ES")) return { name: "ECDSA", hash: HASH(alg), namedCurve: { ES256: "P-256", ES384: "P-384", ES512: "P-521" }[alg] };
  return { name: "Ed25519" };
}
async function mint(payload: unknown, alg: string, signer: Signer, header: Record<string, unknown> = {}): Promise<string> {
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
async function keyPair(params: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm) {
  const kp = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  return { pem: toPem(await crypto.subtle.exportKey("spki", kp.publicKey)), pkcs8: await crypto.subtle.exportKey("pkcs8", kp.privateKey) };
}
type Pair = Awaited<ReturnType<typeof keyPair>>;

const claims = (extra: Record<string, unknown> = {}) => ({ sub: "user-1", exp: NOW + 3600, ...extra });
let clockMs = NOW_MS;
const verifier = (opts: AuthOptions) => new TokenVerifier(opts, { now: () => clockMs });
afterEach(() => {
  clockMs = NOW_MS;
});

/** A refusal whose reason matches and does not leak any part of the token. */
function expectRefused(r: VerifyResult, reason: RegExp | string, token: string, code = "invalid") {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  if (typeof reason === "string") expect(r.reason).toBe(reason);
  else expect(r.reason).toMatch(reason);
  expect(r.code).toBe(code as never);
  expect(r.reason).toMatch(/^[A-Z]/);
  for (const part of token.split(".")) if (part.length > 8) expect(r.reason).not.toContain(part);
}

let rsa: Pair, rsa2: Pair, p256: Pair, p384: Pair, p521: Pair, ed: Pair;
beforeAll(async () => {
  const rsaParams = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  [rsa, rsa2, p256, p384, p521, ed] = await Promise.all([
    keyPair(rsaParams),
    keyPair(rsaParams),
    keyPair({ name: "ECDSA", namedCurve: "P-256" }),
    keyPair({ name: "ECDSA", namedCurve: "P-384" }),
    keyPair({ name: "ECDSA", namedCurve: "P-521" }),
    keyPair({ name: "Ed25519" }),
  ]);
});

describe("valid tokens", () => {
  test("HS256/384/512 minted by hono's sign", async () => {
    const v = verifier({ secret: SECRET });
    expect(v.keyKind).toBe("secret");
    for (const alg of ["HS256", "HS384", "HS512"] as const) {
      const r = await v.verify(await sign(claims(), SECRET, alg));
      expect(r).toEqual({ ok: true, identity: { userId: "user-1", exp: NOW + 3600 } });
    }
  });

  test("every public-key algorithm with its key type", async () => {
    const cases: [string, () => Pair][] = [
      ["RS256", () => rsa], ["RS384", () => rsa], ["RS512", () => rsa], ["PS256", () => rsa], ["PS384", () => rsa],
      ["PS512", () => rsa], ["ES256", () => p256], ["ES384", () => p384], ["ES512", () => p521], ["EdDSA", () => ed],
    ];
    for (const [alg, pair] of cases) {
      const v = verifier({ publicKey: pair().pem });
      expect(v.keyKind).toBe("public-key");
      const r = await v.verify(await mint(claims(), alg, pair().pkcs8));
      expect([alg, r.ok]).toEqual([alg, true]);
    }
  });

  test("RS256 minted by hono's sign with a CryptoKey", async () => {
    const priv = await crypto.subtle.importKey("pkcs8", rsa.pkcs8, signAlgorithm("RS256"), false, ["sign"]);
    const r = await verifier({ publicKey: rsa.pem }).verify(await sign(claims(), priv, "RS256"));
    expect(r.ok).toBe(true);
  });

  test("the CryptoKey is imported once per algorithm, not per token", async () => {
    const spy = spyOn(crypto.subtle, "importKey");
    try {
      const v = verifier({ publicKey: p256.pem });
      const token = await mint(claims(), "ES256", p256.pkcs8);
      const before = spy.mock.calls.length;
      const results = await Promise.all(Array.from({ length: 50 }, () => v.verify(token)));
      expect(results.every((r) => r.ok)).toBe(true);
      expect(spy.mock.calls.length - before).toBe(1);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("time claims", () => {
  const v = () => verifier({ secret: SECRET });
  test("expired", async () => {
    const t = await sign(claims({ exp: NOW - 60 }), SECRET);
    expectRefused(await v().verify(t), "Token has expired", t, "expired");
  });
  test("exp within and outside the default 5 s leeway", async () => {
    const t = await sign(claims({ exp: NOW }), SECRET);
    clockMs = NOW_MS + 4_999;
    expect((await v().verify(t)).ok).toBe(true);
    clockMs = NOW_MS + 5_000;
    expectRefused(await v().verify(t), "Token has expired", t, "expired");
  });
  test("leewaySec: 0 makes exp exact", async () => {
    const t = await sign(claims({ exp: NOW + 1 }), SECRET);
    const strict = verifier({ secret: SECRET, leewaySec: 0 });
    clockMs = NOW_MS + 999;
    expect((await strict.verify(t)).ok).toBe(true);
    clockMs = NOW_MS + 1_000;
    expect((await strict.verify(t)).ok).toBe(false);
  });
  test("not yet valid (nbf), with leeway", async () => {
    const t = await sign(claims({ nbf: NOW + 60 }), SECRET);
    expectRefused(await v().verify(t), "Token is not valid yet (nbf)", t);
    expect((await v().verify(await sign(claims({ nbf: NOW + 5 }), SECRET))).ok).toBe(true);
    expect((await v().verify(await sign(claims({ nbf: NOW + 6 }), SECRET))).ok).toBe(false);
  });
  test("iat in the future, with leeway", async () => {
    const t = await sign(claims({ iat: NOW + 60 }), SECRET);
    expectRefused(await v().verify(t), "Token was issued in the future (iat)", t);
    expect((await v().verify(await sign(claims({ iat: NOW + 5 }), SECRET))).ok).toBe(true);
  });
  test("missing or non-numeric exp", async () => {
    const none = await sign({ sub: "user-1" }, SECRET);
    expectRefused(await v().verify(none), "Token has no expiry (exp)", none);
    const str = await mint({ sub: "user-1", exp: String(NOW + 60) }, "HS256", SECRET);
    expectRefused(await v().verify(str), "Token exp claim is not a number", str);
    const nbf = await sign(claims({ nbf: "soon" }), SECRET);
    expectRefused(await v().verify(nbf), "Token nbf claim is not a number", nbf);
  });
});

describe("signature and algorithm", () => {
  test("wrong secret, wrong key, tampered payload", async () => {
    const other = await sign(claims(), "another-secret-that-is-long-enough-000");
    expectRefused(await verifier({ secret: SECRET }).verify(other), "Token signature is invalid", other);
    const wrongKey = await mint(claims(), "RS256", rsa2.pkcs8);
    expectRefused(await verifier({ publicKey: rsa.pem }).verify(wrongKey), "Token signature is invalid", wrongKey);
    const [h, , s] = (await sign(claims(), SECRET)).split(".");
    const tampered = `${h}.${b64u(JSON.stringify(claims({ sub: "admin" })))}.${s}`;
    expectRefused(await verifier({ secret: SECRET }).verify(tampered), "Token signature is invalid", tampered);
  });

  test("an alg outside the allow-list", async () => {
    const hs512 = await sign(claims(), SECRET, "HS512");
    expectRefused(await verifier({ secret: SECRET, algorithms: ["HS256"] }).verify(hs512), "Token algorithm HS512 is not allowed", hs512);
    const ps = await mint(claims(), "PS256", rsa.pkcs8);
    expectRefused(await verifier({ publicKey: rsa.pem, algorithms: ["RS256"] }).verify(ps), "Token algorithm PS256 is not allowed", ps);
    const es = await mint(claims(), "ES256", p256.pkcs8);
    expectRefused(await verifier({ publicKey: rsa.pem }).verify(es), "Token algorithm ES256 is not allowed", es);
  });

  test("alg none, whatever its spelling or signature", async () => {
    const body = b64u(JSON.stringify(claims()));
    const v = verifier({ secret: SECRET });
    for (const alg of ["none", "None", "NONE"]) {
      for (const sig of ["", b64u("x".repeat(32))]) {
        const t = `${b64u(JSON.stringify({ alg, typ: "JWT" }))}.${body}.${sig}`;
        expectRefused(await v.verify(t), "Token algorithm none is not allowed", t);
      }
    }
  });

  test("HS256 signed with the RSA public key's PEM as the HMAC secret is refused", async () => {
    const forged = await mint(claims({ sub: "admin" }), "HS256", rsa.pem);
    // The forgery is a correct HMAC over the PEM: only the algorithm check can stop it.
    const [h, p, s] = forged.split(".");
    const hmac = await crypto.subtle.importKey("raw", enc.encode(rsa.pem), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    expect(await crypto.subtle.verify("HMAC", hmac, Buffer.from(s!, "base64url"), enc.encode(`${h}.${p}`))).toBe(true);
    expectRefused(await verifier({ publicKey: rsa.pem }).verify(forged), "Token algorithm HS256 is not allowed", forged);
    // Also via hono's sign (it treats a string without "PRIVATE" as a raw HMAC key).
    const forged2 = await sign(claims(), rsa.pem, "HS256");
    expect((await verifier({ publicKey: rsa.pem }).verify(forged2)).ok).toBe(false);
    // Naming HS256 in the allow-list next to a public key is a configuration error.
    expect(() => verifier({ publicKey: rsa.pem, algorithms: ["RS256", "HS256"] })).toThrow("Algorithm HS256 does not fit an RSA key");
  });

  test("an unknown alg is refused without being quoted", async () => {
    const t = await mint(claims(), "HS256", SECRET, { alg: "X".repeat(40) });
    expectRefused(await verifier({ secret: SECRET }).verify(t), "Token algorithm is not supported", t);
  });

  test("typ other than JWT and crit headers are refused (hono's header rules)", async () => {
    for (const extra of [{ typ: "at+jwt" }, { crit: ["exp"] }]) {
      const t = await mint(claims(), "HS256", SECRET, extra);
      expectRefused(await verifier({ secret: SECRET }).verify(t), "Token header is invalid", t);
    }
  });
});

describe("issuer and audience", () => {
  test("issuer", async () => {
    const v = verifier({ secret: SECRET, issuer: "https://idp.example" });
    expect((await v.verify(await sign(claims({ iss: "https://idp.example" }), SECRET))).ok).toBe(true);
    for (const iss of ["https://evil.example", undefined, 42]) {
      const t = await sign(claims({ iss }), SECRET);
      expectRefused(await v.verify(t), "Token issuer does not match", t);
    }
  });
  test("audience as a string or an array claim", async () => {
    const v = verifier({ secret: SECRET, audience: "graphwiz" });
    for (const aud of ["graphwiz", ["other", "graphwiz"]]) {
      expect((await v.verify(await sign(claims({ aud }), SECRET))).ok).toBe(true);
    }
    for (const aud of ["other", ["other", "graphwiz-admin"], [], undefined]) {
      const t = await sign(claims({ aud }), SECRET);
      expectRefused(await v.verify(t), "Token audience does not match", t);
    }
  });
});

describe("identity", () => {
  const v = () => verifier({ secret: SECRET });
  test("user_id when there is no sub; sub wins when both are present", async () => {
    const r = await v().verify(await sign({ user_id: "u-42", exp: NOW + 60 }, SECRET));
    expect(r).toEqual({ ok: true, identity: { userId: "u-42", exp: NOW + 60 } });
    const both = await v().verify(await sign(claims({ user_id: "u-42" }), SECRET));
    expect(both.ok && both.identity.userId).toBe("user-1");
  });
  test("missing or bad subject", async () => {
    const t = await sign({ exp: NOW + 60 }, SECRET);
    expectRefused(await v().verify(t), "Token has no subject (sub or user_id)", t);
    for (const sub of ["", "has space", "x".repeat(129), 42, "tab\there", "é"]) {
      const bad = await sign(claims({ sub }), SECRET);
      expectRefused(await v().verify(bad), /^Token subject must be 1-128 printable ASCII/, bad);
    }
    expect((await v().verify(await sign(claims({ sub: "x".repeat(128) }), SECRET))).ok).toBe(true);
  });
  test("client_id and rooms claims", async () => {
    const r = await v().verify(await sign(claims({ client_id: "headset-7", rooms: ["lobby-*", "stage"] }), SECRET));
    expect(r).toEqual({ ok: true, identity: { userId: "user-1", clientId: "headset-7", rooms: ["lobby-*", "stage"], exp: NOW + 3600 } });
    const badClient = await sign(claims({ client_id: "a b" }), SECRET);
    expectRefused(await v().verify(badClient), /^Token client_id claim must be/, badClient);
    for (const rooms of ["lobby", [1], [""], null, Array(1001).fill("a")]) {
      const t = await sign(claims({ rooms }), SECRET);
      expectRefused(await v().verify(t), /^Token rooms claim must be an array/, t);
    }
  });
  test("a payload that is not an object", async () => {
    const t = await mint([1, 2], "HS256", SECRET);
    expectRefused(await v().verify(t), "Token payload is not a JSON object", t);
  });
});

describe("bad input never throws", () => {
  const v = verifier({ secret: SECRET });
  test("garbage strings", async () => {
    const cases: [string, string][] = [
      ["", "Token is missing"],
      ["x".repeat(MAX_TOKEN_LENGTH + 1), "Token is too long"],
      ["abc", "Token is malformed"],
      ["a.b", "Token is malformed"],
      ["a.b.c.d", "Token is malformed"],
      ["%%%.%%%.%%%", "Token is malformed"],
      [`${b64u("not json")}.${b64u("{}")}.`, "Token is malformed"],
      [`${b64u("null")}.${b64u("{}")}.sig`, "Token header is invalid"],
      [`${b64u("[1]")}.${b64u("{}")}.sig`, "Token header is invalid"],
      [`${b64u('{"alg":"HS256"}')}.${b64u("not json")}.${b64u("s")}`, "Token is malformed"],
      [`${b64u('{"alg":"HS256"}')}.${b64u("{}")}.a`, "Token is malformed"],
      [`${b64u('{"alg":"HS256"}')}.${b64u("{}")}.AAAA`, "Token signature is invalid"],
    ];
    for (const [t, reason] of cases) expectRefused(await v.verify(t), reason, t);
    expect((await v.verify(undefined as unknown as string)).ok).toBe(false);
  });
  test("a bad-length ECDSA signature", async () => {
    const [h, p] = (await mint(claims(), "ES256", p256.pkcs8)).split(".");
    const t = `${h}.${p}.${b64u("short")}`;
    expectRefused(await verifier({ publicKey: p256.pem }).verify(t), "Token signature is invalid", t);
  });
  test("property: arbitrary strings and dotted segments are refused, not thrown", async () => {
    const segment = fc.string({ unit: fc.constantFrom(..."AZaz09-_.=+/ é{}\"\\"), maxLength: 60 });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.tuple(segment, segment, segment).map((s) => s.join("."))), async (t) => {
        const r = await v.verify(t);
        expect(r.ok).toBe(false);
        expect(typeof (r as { reason: string }).reason).toBe("string");
      }),
      { numRuns: 300 },
    );
  });
});
