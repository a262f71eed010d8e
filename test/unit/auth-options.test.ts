/** Auth start-up checks (validateAuthOptions), token extraction (tokenFrom) and room grants (roomAllowed). */
import { beforeAll, describe, expect, test } from "bun:test";
import { type AuthOptions, TokenVerifier, roomAllowed, tokenFrom, validateAuthOptions } from "../../src/auth/index.ts";

const SECRET = "test-secret-that-is-long-enough-0123456789";
const pem = (label: string, der: ArrayBuffer | Uint8Array) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der as ArrayBuffer).toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;

let rsaPem: string, p256Pem: string, edPem: string, privatePem: string, rsaSpki: Uint8Array;
beforeAll(async () => {
  const rsa = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const ec = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const ed = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  rsaSpki = new Uint8Array(await crypto.subtle.exportKey("spki", rsa.publicKey));
  rsaPem = pem("PUBLIC KEY", rsaSpki);
  p256Pem = pem("PUBLIC KEY", await crypto.subtle.exportKey("spki", ec.publicKey));
  edPem = pem("PUBLIC KEY", await crypto.subtle.exportKey("spki", ed.publicKey));
  privatePem = pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", ec.privateKey));
});

describe("validateAuthOptions", () => {
  test("valid options give null", () => {
    const ok: AuthOptions[] = [
      { secret: SECRET },
      { secret: SECRET, algorithms: ["HS256"], issuer: "https://idp", audience: "ws", leewaySec: 0 },
      { publicKey: rsaPem, algorithms: ["RS256", "PS512"] },
      { publicKey: p256Pem, algorithms: ["ES256"] },
      { publicKey: edPem },
      { publicKey: rsaPem.replace(/\n/g, "\\n") }, // one-line env var with literal \n
      { jwksUrl: "https://idp.example/.well-known/jwks.json", algorithms: ["RS256", "ES256", "EdDSA"] },
      { jwksUrl: "http://127.0.0.1:8080/jwks" },
      { jwksUrl: "http://localhost/jwks", jwksMinRefreshSec: 0, jwksMaxAgeSec: 60 },
      { secret: SECRET, publicKey: "" }, // empty counts as unset
    ];
    for (const o of ok) expect([o, validateAuthOptions(o)]).toEqual([o, null]);
  });

  test("each invalid option gives its one-line reason", () => {
    const corruptDer = Uint8Array.from(rsaSpki);
    corruptDer[1] = 0x7f; // wrong outer length
    const cases: [AuthOptions, string | RegExp][] = [
      [{}, "Set exactly one of secret, publicKey or jwksUrl"],
      [{ secret: "" }, "Set exactly one of secret, publicKey or jwksUrl"],
      [{ secret: SECRET, jwksUrl: "https://idp/jwks" }, "Set exactly one of secret, publicKey or jwksUrl (got secret and jwksUrl)"],
      [{ secret: "short" }, "secret must be at least 32 bytes long"],
      [{ secret: rsaPem }, "secret looks like a PEM key; pass it as publicKey instead"],
      [{ publicKey: "not a pem" }, /^publicKey is not a PEM block/],
      [{ publicKey: privatePem }, "publicKey holds a private key; give the public key"],
      [{ publicKey: pem("RSA PUBLIC KEY", rsaSpki) }, /^publicKey is a PKCS#1 "RSA PUBLIC KEY"/],
      [{ publicKey: pem("CERTIFICATE", rsaSpki) }, /^publicKey is a certificate/],
      [{ publicKey: "-----BEGIN PUBLIC KEY-----\n@@@@\n-----END PUBLIC KEY-----" }, /^publicKey is not valid base64/],
      [{ publicKey: pem("PUBLIC KEY", corruptDer) }, "publicKey is not a valid SPKI public key"],
      [{ publicKey: pem("PUBLIC KEY", rsaSpki.subarray(0, 100)) }, "publicKey is not a valid SPKI public key"],
      [{ jwksUrl: "not a url" }, "jwksUrl is not a valid URL"],
      [{ jwksUrl: "http://idp.example/jwks" }, /^jwksUrl must use https/],
      [{ jwksUrl: "ftp://idp.example/jwks" }, /^jwksUrl must use https/],
      [{ secret: SECRET, algorithms: ["HS257"] }, /^Unknown algorithm "HS257"/],
      [{ secret: SECRET, algorithms: ["none"] }, "Algorithm none is never allowed"],
      [{ secret: SECRET, algorithms: [] }, "algorithms must name at least one algorithm"],
      [{ secret: SECRET, algorithms: ["RS256"] }, "Algorithm RS256 does not fit a shared secret (use HS256, HS384, HS512)"],
      [{ publicKey: rsaPem, algorithms: ["HS256"] }, /^Algorithm HS256 does not fit an RSA key/],
      [{ publicKey: p256Pem, algorithms: ["ES384"] }, "Algorithm ES384 does not fit a P-256 key (use ES256)"],
      [{ publicKey: edPem, algorithms: ["ES256"] }, "Algorithm ES256 does not fit an Ed25519 key (use EdDSA)"],
      [{ jwksUrl: "https://idp/jwks", algorithms: ["HS256"] }, /^Algorithm HS256 does not fit a JWKS/],
      [{ secret: SECRET, leewaySec: -1 }, "leewaySec must be a number from 0 to 600"],
      [{ secret: SECRET, leewaySec: Number.NaN }, "leewaySec must be a number from 0 to 600"],
      [{ secret: SECRET, issuer: "" }, "issuer must not be empty when set"],
      [{ secret: SECRET, audience: 5 as unknown as string }, "audience must be a string"],
    ];
    for (const [opts, reason] of cases) {
      const got = validateAuthOptions(opts);
      expect(got).not.toBeNull();
      if (typeof reason === "string") expect(got).toBe(reason);
      else expect(got).toMatch(reason);
      expect(got).not.toContain("\n");
    }
  });

  test("the constructor throws the same reason, and sets keyKind", () => {
    expect(() => new TokenVerifier({ secret: "short" })).toThrow("secret must be at least 32 bytes long");
    expect(new TokenVerifier({ secret: SECRET }).keyKind).toBe("secret");
    expect(new TokenVerifier({ publicKey: edPem }).keyKind).toBe("public-key");
    expect(new TokenVerifier({ jwksUrl: "https://idp/jwks" }).keyKind).toBe("jwks");
  });

  test("ready() imports a static key, and rejects a key WebCrypto cannot import", async () => {
    await new TokenVerifier({ publicKey: rsaPem }).ready();
    await new TokenVerifier({ secret: SECRET }).ready();
    // A well-formed SPKI wrapper around a broken RSAPublicKey passes the start-up parse…
    const broken = Uint8Array.from(rsaSpki);
    expect(broken[24]).toBe(0x30); // the RSAPublicKey SEQUENCE inside the BIT STRING
    broken[24] = 0x31;
    const v = new TokenVerifier({ publicKey: pem("PUBLIC KEY", broken) });
    // …but fails at import: ready() says so, and verify() reports it as server-side trouble.
    await expect(v.ready()).rejects.toThrow("The configured public key could not be imported for RS256");
    const t = `${Buffer.from('{"alg":"RS256"}').toString("base64url")}.${Buffer.from("{}").toString("base64url")}.AAAA`;
    expect(await v.verify(t)).toEqual({ ok: false, code: "unavailable", reason: "Verification key could not be imported" });
  });
});

describe("tokenFrom", () => {
  const req = (query: Record<string, string>, headers: Record<string, string> = {}) => ({
    query: (n: string) => query[n],
    header: (n: string) => Object.entries(headers).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1],
  });
  test("query token, then auth_token, then Authorization: Bearer", () => {
    expect(tokenFrom(req({ token: "q1", auth_token: "q2" }, { authorization: "Bearer h" }))).toBe("q1");
    expect(tokenFrom(req({ auth_token: "q2" }, { authorization: "Bearer h" }))).toBe("q2");
    expect(tokenFrom(req({}, { Authorization: "Bearer h.e.s" }))).toBe("h.e.s");
    expect(tokenFrom(req({}, { authorization: "bearer   h " }))).toBe("h");
  });
  test("empty values are skipped; other schemes and nothing give undefined", () => {
    expect(tokenFrom(req({ token: "", auth_token: "q2" }))).toBe("q2");
    expect(tokenFrom(req({ token: "" }, { authorization: "Bearer h" }))).toBe("h");
    expect(tokenFrom(req({}, { authorization: "Basic dXNlcjpwdw==" }))).toBeUndefined();
    expect(tokenFrom(req({}, { authorization: "Bearer" }))).toBeUndefined();
    expect(tokenFrom(req({}, { authorization: "Bearer a b" }))).toBeUndefined();
    expect(tokenFrom(req({}, { authorization: "Bearerabc" }))).toBeUndefined();
    expect(tokenFrom(req({}))).toBeUndefined();
  });
});

describe("roomAllowed", () => {
  test("no claim allows any room; an empty list allows none", () => {
    expect(roomAllowed(undefined, "anything")).toBe(true);
    expect(roomAllowed([], "lobby")).toBe(false);
  });
  test("exact names and * wildcards", () => {
    const rooms = ["lobby-*", "stage", "team-*-private"];
    const yes = ["lobby-1", "lobby-", "lobby-a-b", "stage", "team-red-private", "team--private"];
    const no = ["lobby", "xlobby-1", "Stage", "stage2", "team-red", "team-red-private2", ""];
    for (const r of yes) expect([r, roomAllowed(rooms, r)]).toEqual([r, true]);
    for (const r of no) expect([r, roomAllowed(rooms, r)]).toEqual([r, false]);
    expect(roomAllowed(["*"], "any.room:1")).toBe(true);
    expect(roomAllowed(["*a*b"], "xxaxxbxb")).toBe(true);
    expect(roomAllowed(["*a*b"], "xxaxxbxc")).toBe(false);
  });
  test("a pathological pattern stays fast", () => {
    const t0 = performance.now();
    expect(roomAllowed(["*a*a*a*a*a*a*a*a*b"], "a".repeat(128))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(50);
  });
});
