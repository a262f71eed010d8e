/** JWT verification with a shared secret or a PEM public key: valid signatures, refused signatures and algorithms. */
import { beforeAll, describe, expect, spyOn, test } from "bun:test";
import { sign } from "hono/utils/jwt/jwt";
import { b64u, claims, enc, expectRefused, keyPair, mint, NOW, type Pair, SECRET, signAlgorithm, verifier } from "../helpers/jwt-fixtures.ts";

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
