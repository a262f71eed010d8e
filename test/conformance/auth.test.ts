/** [auth] authentication against the real server on every runtime, with real tokens. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GraphwizClient } from "../../src/client/index.ts";
import { TestClient } from "../helpers/client.ts";
import { upgradeStatus } from "../helpers/raw-ws.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";
import { keyPair, mint, nowS, SECRET, serveJwks } from "../helpers/tokens.ts";

const status = (s: RunningServer, path: string, headers: Record<string, string> = {}) => upgradeStatus(s.port, path, headers);
const hello = async (url: string) => {
  const c = new TestClient(url);
  const [first] = await c.frames(1);
  return { c, hello: JSON.parse(first as string) };
};

describe.each(RUNTIMES)("auth on %s (HS256)", (runtime) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer(runtime, {
      JWT_SECRET: SECRET, JWT_ALGORITHMS: "HS256", JWT_ISSUER: "https://id.example", JWT_AUDIENCE: "graphwiz",
      JWT_LEEWAY_S: "0", AUTH_TIMEOUT_MS: "1000", PING_INTERVAL_MS: "60000",
    });
  });
  afterAll(async () => {
    await s?.stop();
  });
  const good = (extra: Record<string, unknown> = {}) => mint({ iss: "https://id.example", aud: "graphwiz", ...extra });

  test("a valid token from each source: ?token, ?auth_token, Authorization: Bearer, first message", async () => {
    const t = await good({ sub: "alice" });
    for (const q of ["token", "auth_token"]) {
      const { c, hello: h } = await hello(`${s.ws}/ws/a1?${q}=${t}`);
      expect(h.user_id).toBe("alice");
      await c.close();
    }
    const viaHeader = new TestClient(`${s.ws}/ws/a1`, undefined, { Authorization: `Bearer ${t}` });
    expect(JSON.parse((await viaHeader.frames(1))[0] as string).user_id).toBe("alice");
    await viaHeader.close();
    const sdk = new GraphwizClient({ url: s.ws, room: "a1", token: t, tokenInFirstMessage: true, reconnect: false, displayName: "Al" });
    const h = await sdk.connect();
    expect(h.user_id).toBe("alice");
    sdk.close();
    expect((await (await fetch(`${s.http}/health`)).json()).auth).toBe("required");
  });

  test("rejections before the upgrade: 401 for bad tokens, 403 for mismatches and rooms", async () => {
    const cases: [string, Promise<string>, number][] = [
      ["expired", good({ exp: nowS() - 10 }), 401],
      ["not yet valid", good({ nbf: nowS() + 600 }), 401],
      ["wrong signature", mint({ iss: "https://id.example", aud: "graphwiz" }, "HS256", "another-secret-0123456789abcdefghij"), 401],
      ["wrong alg", mint({ iss: "https://id.example", aud: "graphwiz" }, "HS512"), 401],
      ["alg none", mint({ iss: "https://id.example", aud: "graphwiz" }, "none"), 401],
      ["wrong issuer", good({ iss: "https://evil.example" }), 401],
      ["wrong audience", good({ aud: "other" }), 401],
      ["no exp", good({ exp: undefined }), 401],
    ];
    for (const [what, token, code] of cases) {
      const r = await status(s, `/ws/rej?token=${await token}`);
      expect(r.code, what).toBe(code);
      expect(r.body.error, what).toBe("unauthorized");
      expect(typeof r.body.message).toBe("string");
    }
    const t = await good({ sub: "bob", client_id: "bobs-phone", rooms: ["lobby-*"] });
    expect((await status(s, `/ws/lobby-1?token=${t}&user_id=mallory`)).code).toBe(403);
    expect((await status(s, `/ws/lobby-1?token=${t}&client_id=other`)).code).toBe(403);
    expect((await status(s, `/ws/secret-room?token=${t}`)).code).toBe(403);
    const { c, hello: h } = await hello(`${s.ws}/ws/lobby-1?token=${t}`);
    expect(h).toMatchObject({ user_id: "bob", client_id: "bobs-phone" });
    await c.close();
  });

  test("first-message auth: a bad token closes with 4401, silence with 4408; nothing leaks before", async () => {
    const bad = new TestClient(`${s.ws}/ws/fm`);
    await bad.opened;
    bad.send(JSON.stringify({ type: "CLIENT_HELLO", auth_token: await mint({}, "HS256", "wrong-secret-0123456789abcdefghijkl") }));
    expect((await bad.closedP).code).toBe(4401);
    expect(bad.inbox.every((f) => typeof f === "string" && !f.includes("SERVER_HELLO"))).toBe(true);
    const silent = new TestClient(`${s.ws}/ws/fm`);
    await silent.opened;
    expect((await silent.closedP).code).toBe(4408);
    const chatty = new TestClient(`${s.ws}/ws/fm`);
    await chatty.opened;
    chatty.send('{"type":"CHAT_MESSAGE","text":"let me in"}');
    expect((await chatty.closedP).code).toBe(4401);
  });

  test("expiry while connected closes with 4103 unless refreshed; a refresh for another user closes with 4403", async () => {
    const short = await good({ sub: "carol", exp: nowS() + 2 });
    const expiring = new TestClient(`${s.ws}/ws/exp?token=${short}`);
    const refreshed = new GraphwizClient({ url: s.ws, room: "exp", token: short, reconnect: false });
    await refreshed.connect();
    refreshed.refreshToken(await good({ sub: "carol", exp: nowS() + 600 }));
    const hijack = new GraphwizClient({ url: s.ws, room: "exp", token: await good({ sub: "dave" }), reconnect: false });
    await hijack.connect();
    const hijackClosed = hijack.next("close");
    hijack.refreshToken(await good({ sub: "eve" }));
    expect((await hijackClosed)[0].code).toBe(4403);
    const closed = await expiring.closedP;
    expect(closed.code).toBe(4103);
    expect(expiring.inbox.some((f) => typeof f === "string" && f.includes('"close_code":4103'))).toBe(true);
    await Bun.sleep(1500);
    expect(refreshed.socket?.readyState).toBe(WebSocket.OPEN);
    refreshed.close();
  }, 20_000);

  test("tokens never appear in logs", async () => {
    const t = await good({ sub: "logcheck" });
    const { c } = await hello(`${s.ws}/ws/logs?token=${t}`);
    await c.close();
    await status(s, `/ws/logs?token=${t}x`);
    await Bun.sleep(100);
    const sig = t.split(".")[2];
    expect(s.lines.length).toBeGreaterThan(2);
    expect(s.lines.some((l) => l.includes(sig) || l.includes(t.split(".")[1]))).toBe(false);
  });
});

describe.each(RUNTIMES)("auth modes on %s", (runtime) => {
  test("optional mode: no token = anonymous, an invalid token is still refused", async () => {
    const s = await startServer(runtime, { JWT_SECRET: SECRET, AUTH_MODE: "optional" });
    try {
      const { c, hello: h } = await hello(`${s.ws}/ws/opt?client_id=anon`);
      expect(h.user_id).toBeNull();
      await c.close();
      expect((await status(s, `/ws/opt?token=garbage`)).code).toBe(401);
      expect((await status(s, `/ws/opt?user_id=claimed`)).code).toBe(401);
      const { c: c2, hello: h2 } = await hello(`${s.ws}/ws/opt?token=${await mint({ sub: "real" })}`);
      expect(h2.user_id).toBe("real");
      await c2.close();
    } finally {
      await s.stop();
    }
  });

  test("development mode warns at start-up and says so in /health; production without a key refuses to start", async () => {
    const s = await startServer(runtime);
    expect(s.lines.some((l) => l.includes("auth_development_mode"))).toBe(true);
    expect((await (await fetch(`${s.http}/health`)).json()).auth).toBe("development");
    await s.stop();
    await expect(startServer(runtime, { NODE_ENV: "production" })).rejects.toThrow(/exited 2: .*NODE_ENV=production/);
    await expect(startServer(runtime, { JWT_SECRET: "short" })).rejects.toThrow(/exited 2: .*JWT/);
  });

  test("ES256 via JWT_PUBLIC_KEY and RS256 via a JWKS served on 127.0.0.1", async () => {
    const ec = await keyPair("ES256");
    const s1 = await startServer(runtime, { JWT_PUBLIC_KEY: ec.pem });
    try {
      const { c, hello: h } = await hello(`${s1.ws}/ws/es?token=${await mint({ sub: "ec-user" }, "ES256", ec.privateKey)}`);
      expect(h.user_id).toBe("ec-user");
      await c.close();
      expect((await status(s1, `/ws/es?token=${await mint({ sub: "x" })}`)).code).toBe(401); // HS256 against an EC key
    } finally {
      await s1.stop();
    }
    const rsa = await keyPair("RS256", "rsa-1");
    const jwks = serveJwks([rsa.jwk]);
    const s2 = await startServer(runtime, { JWT_JWKS_URL: jwks.url });
    try {
      const t = await mint({ sub: "rsa-user" }, "RS256", rsa.privateKey, { kid: "rsa-1" });
      const { c, hello: h } = await hello(`${s2.ws}/ws/rs?token=${t}`);
      expect(h.user_id).toBe("rsa-user");
      await c.close();
      expect((await status(s2, `/ws/rs?token=${await mint({ sub: "y" }, "RS256", rsa.privateKey, { kid: "unknown" })}`)).code).toBe(401);
      expect(jwks.hits()).toBeGreaterThanOrEqual(1);
    } finally {
      await s2.stop();
      jwks.stop();
    }
  });
});
