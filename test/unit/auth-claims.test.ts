/** JWT verification of the claims: time (exp, nbf, iat, leeway), issuer and audience, and the identity taken from the token. */
import { afterEach, describe, expect, test } from "bun:test";
import { sign } from "hono/utils/jwt/jwt";
import { claims, clock, expectRefused, mint, NOW, NOW_MS, SECRET, verifier } from "../helpers/jwt-fixtures.ts";

afterEach(() => {
  clock.ms = NOW_MS;
});

describe("time claims", () => {
  const v = () => verifier({ secret: SECRET });
  test("expired", async () => {
    const t = await sign(claims({ exp: NOW - 60 }), SECRET);
    expectRefused(await v().verify(t), "Token has expired", t, "expired");
  });
  test("exp within and outside the default 5 s leeway", async () => {
    const t = await sign(claims({ exp: NOW }), SECRET);
    clock.ms = NOW_MS + 4_999;
    expect((await v().verify(t)).ok).toBe(true);
    clock.ms = NOW_MS + 5_000;
    expectRefused(await v().verify(t), "Token has expired", t, "expired");
  });
  test("leewaySec: 0 makes exp exact", async () => {
    const t = await sign(claims({ exp: NOW + 1 }), SECRET);
    const strict = verifier({ secret: SECRET, leewaySec: 0 });
    clock.ms = NOW_MS + 999;
    expect((await strict.verify(t)).ok).toBe(true);
    clock.ms = NOW_MS + 1_000;
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
