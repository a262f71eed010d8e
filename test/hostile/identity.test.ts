/**
 * [security] findings 2 and 5 on every runtime: a client id is held by one connection of one
 * user (another user cannot borrow it; the same user's second connection takes it over with no
 * leave), and the connection caps hold under a burst of concurrent authenticated upgrades.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, join, TestClient } from "../helpers/client.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { BUILDS, startBuild } from "../helpers/builds.ts";
import { startServer, type RunningServer } from "../helpers/server.ts";
import { mint, SECRET } from "../helpers/tokens.ts";
import { jsonFrames, stillServes } from "./common.ts";

const types = (c: TestClient) => jsonFrames(c.inbox).map((m) => `${m.type}${m.payload?.client_id ? `:${m.payload.client_id}` : ""}`);

describe.each(BUILDS)("hostile identity on %s", (runtime) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startBuild(runtime, { JWT_SECRET: SECRET, AUTH_MODE: "optional", MAX_ROOM_CONNECTIONS: "5", CONNECT_RATE_LIMIT: "0" });
  });
  afterAll(async () => {
    await s?.stop();
  });

  const as = async (room: string, user: string, clientId: string) => join(s.ws, room, `client_id=${clientId}&token=${await mint({ sub: user })}`);

  test("Bob cannot borrow Alice's client id: 409 before the upgrade; her entity, whispers and presence stay hers", async () => {
    const alice = await as("borrow", "alice", "alice-c");
    alice.send(JSON.stringify({ type: "ENTITY_SPAWN", entity_id: "lamp" }));
    const carol = await as("borrow", "carol", "carol-c");
    const bobRaw = RawWs.open(s.port, `/ws/borrow?client_id=alice-c&token=${await mint({ sub: "bob" })}`);
    expect(await bobRaw.ready).toBe(409);
    const anon = RawWs.open(s.port, `/ws/borrow?client_id=alice-c`); // AUTH_MODE=optional: no token
    expect(await anon.ready).toBe(409);
    carol.send(JSON.stringify({ type: "CHAT_MESSAGE", message: "psst", chat_type: "WHISPER", to_client_id: "alice-c" }));
    await alice.until((box) => jsonFrames(box).some((m) => m.payload?.message === "psst"), 3000, "the whisper at Alice");
    await Bun.sleep(200);
    expect(types(carol).filter((t) => t.startsWith("PRESENCE_LEAVE"))).toEqual([]);
    const late = await as("borrow", "dave", "dave-c");
    const hello = JSON.parse(late.inbox[0] as string);
    expect(hello.initial_state.players.map((p: any) => p.client_id).sort()).toEqual(["alice-c", "carol-c", "dave-c"]);
    expect(hello.initial_state.entities.map((e: any) => [e.id, e.owner_id])).toEqual([["lamp", "alice-c"]]);
    for (const c of [alice, carol, late]) await c.close();
  });

  test("the same user twice with one client id (two tabs): the newer takes over (the older gets 4410), no leave, one player", async () => {
    const watcher = await as("tabs", "wendy", "w");
    const tab1 = await as("tabs", "ann", "ann-tab");
    await watcher.until((box) => jsonFrames(box).some((m) => m.type === "PRESENCE_JOIN"), 3000, "ann's join");
    const tab2 = await as("tabs", "ann", "ann-tab");
    const closed = await tab1.closedP;
    expect(closed.code).toBe(4410);
    expect(jsonFrames(tab1.inbox).at(-1)).toMatchObject({ type: "ERROR", close_code: 4410 });
    tab2.send(JSON.stringify({ type: "CHAT_MESSAGE", message: "still here" }));
    await watcher.until((box) => jsonFrames(box).some((m) => m.payload?.message === "still here"), 3000, "tab 2's chat");
    await Bun.sleep(200);
    expect(types(watcher).filter((t) => t.startsWith("PRESENCE_LEAVE"))).toEqual([]);
    expect(types(watcher).filter((t) => t.startsWith("PRESENCE_JOIN"))).toEqual(["PRESENCE_JOIN:ann-tab"]);
    const stats = await (await fetch(`${s.http}/ws/tabs/stats`)).json();
    expect(stats.connections.filter((c: any) => c.client_id === "ann-tab").length).toBe(1);
    await tab2.close();
    await watcher.until((box) => jsonFrames(box).some((m) => m.type === "PRESENCE_LEAVE"), 3000, "the leave once the last tab goes");
    await watcher.close();
  });

  test("100 concurrent authenticated upgrades into a room capped at 5: exactly 5 get in; first-message auth honours the cap too", async () => {
    const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => mint({ sub: `u${i}` })));
    const raws = tokens.map((t, i) => RawWs.open(s.port, `/ws/capped?client_id=c${i}&token=${t}`));
    const statuses = await Promise.all(raws.map((r) => r.ready));
    expect(statuses.filter((x) => x === 101).length).toBe(5);
    expect(statuses.filter((x) => x === 503).length).toBe(95);
    await eventually(async () => (await (await fetch(`${s.http}/ws/capped/stats`)).json()).connection_count === 5, 5000, "5 members");
    // A sixth without a token in the URL (it would authenticate by its first message) is refused as well.
    const pending = RawWs.open(s.port, `/ws/capped?client_id=late`);
    expect(await pending.ready).toBe(503);
    for (const r of raws) r.destroy();
    await eventually(async () => (await (await fetch(`${s.http}/ws/capped/stats`)).json()).connection_count === 0, 10_000, "the room empty");
    // Places are given back: the room takes 5 again.
    const again = await Promise.all(Array.from({ length: 5 }, async (_, i) => as("capped", `v${i}`, `v${i}`)));
    expect(again.every((c) => JSON.parse(c.inbox[0] as string).type === "SERVER_HELLO")).toBe(true);
    for (const c of again) await c.close();
    await stillServes(s);
  }, 30_000);
});
