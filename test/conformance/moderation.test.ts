/**
 * [compat] GraphWiz-XR's moderation API on every runtime: kick / mute / lock as its
 * ModerationClient calls them (camelCase bodies, `{success, message}` answers) and as its
 * original server took them (snake_case); who may moderate (the host in development mode, a
 * `moderates` claim with a key); JSON errors; CORS; GET /rooms/{id}/clients.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MessageType } from "../../src/protocol/types.ts";
import { post, rawPeer, xrPeer, type Peer } from "../helpers/peers.ts";
import { upgradeStatus } from "../helpers/raw-ws.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";
import { mint, SECRET } from "../helpers/tokens.ts";
import { XR, XrClient } from "../helpers/xr-client.ts";


const voice = (n: number) => ({ fromClientId: "", audioData: Buffer.from([n, n, n]).toString("base64"), sequenceNumber: n, codec: 0 });

describe.each(RUNTIMES)("moderation in development mode on %s", (runtime) => {
  let s: RunningServer;
  const open: Peer[] = [];
  let roomSeq = 0;
  const room = (name: string) => `${name}-${++roomSeq}`;
  const xr = async (r: string, name: string) => {
    const p = xrPeer(new XrClient(s.ws, r, { userId: `u-${name}`, displayName: name, clientId: name }));
    open.push(p);
    await p.hello;
    return p;
  };
  const json = async (r: string, id: string) => {
    const p = await rawPeer(s.ws, r, "json", id);
    open.push(p);
    await p.hello;
    return p;
  };
  beforeAll(async () => {
    s = await startServer(runtime, { RATE_LIMIT_MESSAGES: "100000", PING_INTERVAL_MS: "600000" });
  });
  afterAll(async () => {
    for (const p of open) p.close().catch(() => {});
    await s?.stop();
  });

  test("the host kicks: 4430 for the target, the room hears who and why, the id cannot rejoin at once", async () => {
    const r = room("kick");
    const host = await xr(r, "host");
    const target = await xr(r, "target");
    const j = await json(r, "watcher");
    const res = await post(s.http, "/moderation/kick", { roomId: r, targetClientId: "target", kickedByClientId: "host", reason: "spam" });
    expect(res).toMatchObject({ status: 200, body: { success: true, message: expect.stringContaining("target") } });
    expect((await target.closed).code).toBe(4430);
    const ev = await host.next(XR.MODERATION);
    expect([ev.get("action"), ev.get("target_client_id"), ev.get("by_client_id"), ev.get("reason")]).toEqual([0, "target", "host", "spam"]);
    expect((await j.next(MessageType.MODERATION)).get("action")).toBe("KICK");
    await j.next(MessageType.PRESENCE_LEAVE, (g) => g.get("client_id") === "target");
    const again = await upgradeStatus(s.port, `/ws/${r}?room_id=${r}&user_id=u&client_id=target`);
    expect(again).toMatchObject({ code: 403, body: { error: "kicked" } });
    expect((await upgradeStatus(s.port, `/ws/${r}?client_id=someone-else`)).code).toBe(101);
    for (const p of [host, target]) expect(p.problems()).toEqual([]);
  });

  test("only the host may moderate; bad requests get JSON errors with the right status", async () => {
    const r = room("who");
    await xr(r, "h");
    await xr(r, "m");
    const kick = (body: unknown, headers?: Record<string, string>) => post(s.http, "/moderation/kick", body, headers);
    expect(await kick({ roomId: r, targetClientId: "h", kickedByClientId: "m" })).toMatchObject({ status: 403, body: { success: false, error: "forbidden" } });
    expect(await kick({ roomId: r, targetClientId: "ghost", kickedByClientId: "h" })).toMatchObject({ status: 404, body: { success: false, error: "not_found" } });
    expect(await kick({ room_id: r, target_client_id: "ghost", kicked_by_client_id: "h" })).toMatchObject({ status: 404 }); // snake_case reads the same
    expect(await kick("{not json")).toMatchObject({ status: 400, body: { success: false, error: "bad_request" } });
    expect(await kick({ targetClientId: "m", kickedByClientId: "h" })).toMatchObject({ status: 400, body: { message: "roomId is required" } });
    expect(await kick({ roomId: "bad room!", targetClientId: "m", kickedByClientId: "h" })).toMatchObject({ status: 400 });
    expect(await kick({ roomId: r, targetClientId: "m", kickedByClientId: "h", reason: "x".repeat(300) })).toMatchObject({ status: 400 });
    expect(await post(s.http, "/moderation/lock", { roomId: r, locked: "yes", lockedByClientId: "h" })).toMatchObject({ status: 400, body: { message: "locked must be true or false" } });
    expect(await post(s.http, "/moderation/lock", { roomId: `${r}-empty`, locked: true, lockedByClientId: "h" })).toMatchObject({ status: 403 });
    const plain = await fetch(`${s.http}/moderation/kick`, { method: "POST", headers: { "Content-Type": "text/plain" }, body: JSON.stringify({ roomId: r }) });
    expect(plain.status).toBe(415);
    expect((await fetch(`${s.http}/moderation/kick`)).status).toBe(404);
  });

  test("mute holds back the target's voice until unmuted; the room is told; stats list it", async () => {
    const r = room("mute");
    await xr(r, "h");
    const talker = await xr(r, "talker");
    const ear = await json(r, "ear");
    const said = (n: number) => ear.received().some((g) => g.type === MessageType.VOICE_DATA && g.get("sequence_number") === n);
    talker.send(XR.VOICE_DATA, {}, voice(1));
    await ear.next(MessageType.VOICE_DATA, (g) => g.get("sequence_number") === 1);
    // GraphWiz-XR's mute body names nobody: in development mode it is taken as the host's.
    expect((await post(s.http, "/moderation/mute", { room_id: r, target_client_id: "talker", muted: true, reason: "muted by host" })).status).toBe(200);
    expect((await ear.next(MessageType.MODERATION)).get("action")).toBe("MUTE");
    await talker.next(XR.MODERATION);
    talker.send(XR.VOICE_DATA, {}, voice(2));
    talker.send(XR.CHAT_MESSAGE, {}, { message: "still here" });
    await ear.next(MessageType.CHAT_MESSAGE);
    expect(said(2)).toBe(false);
    expect((await talker.next(XR.ERROR)).get("code")).toBe("FORBIDDEN");
    const stats = await (await fetch(`${s.http}/ws/${r}/stats`)).json();
    expect(stats).toMatchObject({ muted: ["talker"], host_client_id: "h" });
    expect(stats.locked).toBeUndefined();
    const clients = await (await fetch(`${s.http}/rooms/${r}/clients`)).json();
    expect(clients.clients.find((c: any) => c.client_id === "talker")).toMatchObject({ muted: true, is_host: false, display_name: "talker" });
    expect(clients.clients.find((c: any) => c.client_id === "h")).toMatchObject({ muted: false, is_host: true });
    expect((await post(s.http, "/moderation/mute", { roomId: r, targetClientId: "talker", muted: false, mutedByClientId: "talker" })).status).toBe(403);
    expect((await post(s.http, "/moderation/mute", { roomId: r, targetClientId: "talker", muted: false })).status).toBe(200);
    await ear.next(MessageType.MODERATION, (g) => g.get("action") === "UNMUTE");
    talker.send(XR.VOICE_DATA, {}, voice(3));
    await ear.next(MessageType.VOICE_DATA, (g) => g.get("sequence_number") === 3);
    expect(said(2)).toBe(false);
  });

  test("lock refuses new joins with 423 until unlocked; members stay; stats show it", async () => {
    const r = room("lock");
    const h = await xr(r, "h");
    const j = await json(r, "j");
    expect(await post(s.http, "/moderation/lock", { roomId: r, locked: true, lockedByClientId: "h", reason: "private" })).toMatchObject({ status: 200, body: { success: true } });
    expect((await j.next(MessageType.MODERATION)).get("action")).toBe("LOCK");
    expect(await upgradeStatus(s.port, `/ws/${r}?client_id=late`)).toMatchObject({ code: 423, body: { error: "room_locked", message: expect.stringContaining("private") } });
    const stats = await (await fetch(`${s.http}/ws/${r}/stats`)).json();
    expect(stats).toMatchObject({ locked: true, lock: { by_client_id: "h", reason: "private" }, connection_count: 2 });
    j.send(MessageType.CHAT_MESSAGE, { message: "we are still here" });
    expect((await h.next(XR.CHAT_MESSAGE)).get("message")).toBe("we are still here");
    expect((await post(s.http, "/moderation/lock", { roomId: r, locked: false, lockedByClientId: "h" })).status).toBe(200);
    expect((await upgradeStatus(s.port, `/ws/${r}?client_id=late`)).code).toBe(101);
    expect(h.problems()).toEqual([]);
  });

  test("CORS: a browser app on another origin may call the API (development mode, no ALLOWED_ORIGINS)", async () => {
    const pre = await fetch(`${s.http}/moderation/kick`, { method: "OPTIONS", headers: { Origin: "http://localhost:5173", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(pre.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-type");
    const res = await post(s.http, "/moderation/lock", { roomId: "nobody-here", locked: true, lockedByClientId: "x" }, { Origin: "http://localhost:5173" });
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
  });
});

describe.each(RUNTIMES)("moderation with a key on %s", (runtime) => {
  let s: RunningServer;
  const open: Peer[] = [];
  beforeAll(async () => {
    s = await startServer(runtime, { JWT_SECRET: SECRET, ALLOWED_ORIGINS: "http://app.example", PING_INTERVAL_MS: "600000" });
  });
  afterAll(async () => {
    for (const p of open) p.close().catch(() => {});
    await s?.stop();
  });

  test("a token's moderates claim decides; the host alone does not; CORS follows ALLOWED_ORIGINS", async () => {
    // GraphWiz-XR's client authenticates with CLIENT_HELLO.authToken (first-message auth).
    const join = async (name: string) => {
      const p = xrPeer(new XrClient(s.ws, "mod-1", { userId: name, displayName: name, clientId: name, authToken: await mint({ sub: name }) }));
      open.push(p);
      await p.hello;
      return p;
    };
    const host = await join("ann");
    const target = await join("bob");
    const body = { roomId: "mod-1", targetClientId: "bob", kickedByClientId: "ann" };
    const bearer = async (claims: Record<string, unknown>) => ({ Authorization: `Bearer ${await mint({ sub: "mo", ...claims })}` });
    expect(await post(s.http, "/moderation/kick", body)).toMatchObject({ status: 401, body: { success: false, error: "unauthorized" } });
    expect((await post(s.http, "/moderation/kick", body, { Authorization: "Bearer nonsense" })).status).toBe(401);
    expect((await post(s.http, "/moderation/kick", body, await bearer({ exp: Math.floor(Date.now() / 1000) - 3600 }))).status).toBe(401);
    expect(await post(s.http, "/moderation/kick", body, await bearer({}))).toMatchObject({ status: 403, body: { error: "forbidden" } });
    expect((await post(s.http, "/moderation/kick", body, await bearer({ moderates: ["other-*"] }))).status).toBe(403);
    expect((await post(s.http, "/moderation/kick", body, await bearer({ moderates: "mod-1" }))).status).toBe(401); // malformed claim: invalid token
    const ok = await post(s.http, "/moderation/kick", body, { ...(await bearer({ moderates: ["mod-*"] })), Origin: "http://app.example" });
    expect(ok).toMatchObject({ status: 200, body: { success: true } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://app.example");
    expect((await target.closed).code).toBe(4430);
    expect((await host.next(XR.MODERATION)).get("target_client_id")).toBe("bob");
    const evil = await fetch(`${s.http}/moderation/kick`, { method: "OPTIONS", headers: { Origin: "http://evil.example", "Access-Control-Request-Method": "POST" } });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    const forged = await post(s.http, "/moderation/lock", { roomId: "mod-1", locked: true, lockedByClientId: "ann" }, { ...(await bearer({ moderates: ["*"] })), Origin: "http://evil.example" });
    expect(forged).toMatchObject({ status: 403, body: { success: false } });
    expect(host.problems()).toEqual([]);
  });
});
