/**
 * [compat] Host election, grabs and moderation across instances: Bun, Deno and Node sharing one
 * private redis-server, GraphWiz-XR-like clients (xr frames) spread over them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MessageType } from "../../src/protocol/types.ts";
import { eventually } from "../helpers/client.ts";
import { post, rawPeer, xrPeer, type Peer } from "../helpers/peers.ts";
import { upgradeStatus } from "../helpers/raw-ws.ts";
import { startRedis, type TestRedis } from "../helpers/redis.ts";
import { startServer, type Runtime, type RunningServer } from "../helpers/server.ts";
import { XR, XrClient } from "../helpers/xr-client.ts";

describe("GraphWiz-XR clients across three instances", () => {
  let redis: TestRedis;
  const servers = {} as Record<Runtime, RunningServer>;
  const open: Peer[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, NODE_HEARTBEAT_MS: "500", NODE_TTL_MS: "2000", PING_INTERVAL_MS: "600000", RATE_LIMIT_MESSAGES: "100000" };
    const started = await Promise.allSettled((["bun", "deno", "node"] as const).map(async (rt) => (servers[rt] = await startServer(rt, { ...env, NODE_ID: rt }))));
    const failed = started.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  });
  afterAll(async () => {
    for (const p of open) p.close().catch(() => {});
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    await redis?.close();
  });
  const xr = async (rt: Runtime, room: string, id: string) => {
    const p = xrPeer(new XrClient(servers[rt].ws, room, { userId: `u-${id}`, displayName: id, clientId: id }));
    open.push(p);
    await p.hello;
    return p;
  };
  const json = async (rt: Runtime, room: string, id: string) => {
    const p = await rawPeer(servers[rt].ws, room, "json", id);
    open.push(p);
    await p.hello;
    return p;
  };

  /** Resolves once every instance lists `clientId` as a player of `room` (its own world, or the store's). */
  const joinedEverywhere = (room: string, clientId: string) =>
    eventually(async () => {
      for (const s of Object.values(servers)) {
        const listing = (await (await fetch(`${s.http}/rooms/${room}/clients`)).json()) as { clients: { client_id: string; display_name: string | null }[] };
        if (!listing.clients.some((c) => c.client_id === clientId && c.display_name === clientId)) return false;
      }
      return true;
    }, 5000, `${clientId} listed as a player of ${room} on every instance`);

  test("every instance names the same host, tells it at join, and the new one when the host leaves", async () => {
    const a = await xr("bun", "h1", "a");
    // A hello goes out as its join is appended to the shared store, one round trip before the
    // other instances can know of it; "a joined first" means the store has it (docs/protocol.md).
    await joinedEverywhere("h1", "a");
    const b = await xr("deno", "h1", "b");
    await joinedEverywhere("h1", "b");
    const c = await json("node", "h1", "c");
    expect([(await b.hello).host_client_id, (await c.hello).host_client_id]).toEqual(["a", "a"]);
    expect((await b.next(XR.PRESENCE_JOIN, (g) => g.get("client_id") === "b")).get("data.host_client_id")).toBe("a");
    expect((await a.next(XR.PRESENCE_JOIN, (g) => g.get("client_id") === "c")).get("data.host_client_id")).toBe("a");
    await a.close();
    const leave = await c.next(MessageType.PRESENCE_LEAVE, (g) => g.get("client_id") === "a");
    expect(leave.get("data.host_client_id")).toBe("b");
    expect((await b.next(XR.PRESENCE_UPDATE, (g) => g.get("data.host_client_id") === "b")).get("client_id")).toBe("b");
    expect((await (await fetch(`${servers.node.http}/ws/h1/stats`)).json()).host_client_id).toBe("b");
    const late = await json("bun", "h1", "late");
    expect((await late.hello).host_client_id).toBe("b");
    expect(b.problems()).toEqual([]);
  });

  test("a hold made on one instance is seen by a late joiner on another and ends when its holder leaves", async () => {
    const a = await xr("bun", "g1", "ga");
    const w = await json("node", "g1", "gw");
    a.send(XR.OBJECT_GRAB, {}, { entityId: "grab-cube-1", clientId: "ga", position: { x: 1, y: 1, z: 1 }, timestamp: Date.now() });
    await w.next(MessageType.OBJECT_GRAB);
    const late = await json("deno", "g1", "gl");
    const player = (await late.hello).initial_state.players.find((p: any) => p.client_id === "ga");
    expect(player.holding.map((h: any) => h.entity_id)).toEqual(["grab-cube-1"]);
    late.send(MessageType.OBJECT_GRAB, { entity_id: "grab-cube-1" });
    expect((await late.next(MessageType.ERROR)).get("code")).toBe("CONFLICT");
    await a.close();
    await late.next(MessageType.OBJECT_RELEASE, (g) => g.get("client_id") === "ga");
    late.send(MessageType.OBJECT_GRAB, { entity_id: "grab-cube-1" });
    await w.next(MessageType.OBJECT_GRAB, (g) => g.get("client_id") === "gl");
  });

  test("kick, mute and lock asked on one instance act where the target is and hold on every instance", async () => {
    const host = await xr("bun", "m1", "host");
    const talker = await xr("deno", "m1", "talker");
    const ear = await json("node", "m1", "ear");
    await host.next(XR.PRESENCE_JOIN, (g) => g.get("client_id") === "ear");
    // Mute asked at Node, for a client on Deno: Deno stops relaying it to everyone.
    expect((await post(servers.node.http, "/moderation/mute", { roomId: "m1", targetClientId: "talker", muted: true })).status).toBe(200);
    await talker.next(XR.MODERATION);
    talker.send(XR.VOICE_DATA, {}, { audioData: "AQID", sequenceNumber: 1, codec: 0 });
    talker.send(XR.CHAT_MESSAGE, {}, { message: "after voice" });
    await ear.next(MessageType.CHAT_MESSAGE);
    await host.next(XR.CHAT_MESSAGE);
    expect(ear.received().filter((g) => g.type === MessageType.VOICE_DATA)).toEqual([]);
    expect(host.received().filter((g) => g.type === XR.VOICE_DATA)).toEqual([]);
    // Lock asked at Bun: Deno and Node refuse new joins too; stats everywhere show it.
    expect((await post(servers.bun.http, "/moderation/lock", { roomId: "m1", locked: true, lockedByClientId: "host" })).status).toBe(200);
    await ear.next(MessageType.MODERATION, (g) => g.get("action") === "LOCK");
    for (const rt of ["deno", "node"] as const) expect((await upgradeStatus(servers[rt].port, "/ws/m1?client_id=newcomer")).code).toBe(423);
    expect((await (await fetch(`${servers.deno.http}/ws/m1/stats`)).json()).locked).toBe(true);
    // Kick asked at Node, for a client on Deno, by the host on Bun.
    expect((await post(servers.node.http, "/moderation/kick", { roomId: "m1", targetClientId: "talker", kickedByClientId: "host" })).status).toBe(200);
    expect((await talker.closed).code).toBe(4430);
    await host.next(XR.PRESENCE_LEAVE, (g) => g.get("client_id") === "talker");
    expect((await upgradeStatus(servers.bun.port, "/ws/m1?client_id=talker")).body).toMatchObject({ error: "kicked" });
    // Unlock at Deno: Node lets newcomers in again.
    expect((await post(servers.deno.http, "/moderation/lock", { roomId: "m1", locked: false, lockedByClientId: "host" })).status).toBe(200);
    await eventually(async () => (await upgradeStatus(servers.node.port, "/ws/m1?client_id=newcomer")).code === 101, 3000, "the unlock on Node");
    for (const p of [host, talker]) expect(p.problems()).toEqual([]);
  });

  // Last: it kills Deno. Whichever survivor reaps it (Node does not serve the room), the room
  // hears the leave with the new host and the announcement.
  test("the host's instance dies: the room hears the new host", async () => {
    const gone = await xr("deno", "d1", "doomed-host");
    const next = await xr("bun", "d1", "next");
    const w = await json("bun", "d1", "w");
    expect((await w.hello).host_client_id).toBe("doomed-host");
    servers.deno.proc.kill("SIGKILL");
    const leave = await w.next(MessageType.PRESENCE_LEAVE, (g) => g.get("client_id") === "doomed-host", 10_000);
    expect(leave.get("data.host_client_id")).toBe("next");
    await next.next(XR.PRESENCE_UPDATE, (g) => g.get("data.host_client_id") === "next");
    expect((await (await fetch(`${servers.node.http}/ws/d1/stats`)).json()).host_client_id).toBe("next");
    void gone;
  }, 20_000);
});
