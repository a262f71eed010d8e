/** JWT verification of malformed input: garbage and arbitrary strings are refused with a reason, never thrown. */
import { beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { MAX_TOKEN_LENGTH } from "../../src/auth/index.ts";
import { b64u, claims, expectRefused, keyPair, mint, type Pair, SECRET, verifier } from "../helpers/jwt-fixtures.ts";

let p256: Pair;
beforeAll(async () => {
  p256 = await keyPair({ name: "ECDSA", namedCurve: "P-256" });
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
