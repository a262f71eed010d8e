/**
 * [security] findings 1 and 4 on every runtime: one client cannot grow a room's world without
 * bound (every change past a limit gets LIMIT_EXCEEDED and changes nothing), and joiners that
 * never read cannot blow up the server or freeze other rooms (the welcome is encoded once and
 * sent through the slow-consumer limits).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually, join, TestClient } from "../helpers/client.ts";
import { BUILDS, startBuild } from "../helpers/builds.ts";
import { startServer, type RunningServer } from "../helpers/server.ts";
import { jsonFrames, rssMb, stillServes } from "./common.ts";

const spawn = (id: string, components: Record<string, string> = {}) => JSON.stringify({ type: "ENTITY_SPAWN", entity_id: id, components });
const update = (id: string, components: Record<string, string>) => JSON.stringify({ type: "ENTITY_UPDATE", entity_id: id, components });
const errors = (c: TestClient, code: string) => jsonFrames(c.inbox).filter((m) => m.type === "ERROR" && m.code === code);

describe.each(BUILDS)("hostile state on %s", (runtime) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startBuild(runtime, { RATE_LIMIT_MESSAGES: "100000", MAX_ROOM_STATE_BYTES: "262144" });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("an entity grown key by key stops at MAX_ENTITY_COMPONENTS and MAX_ENTITY_BYTES; nothing partial is applied; joins still work", async () => {
    const a = await join(s.ws, "grow");
    a.send(spawn("blob"));
    for (let i = 0; i < 200; i++) a.send(update("blob", { [`k${i}`]: "v".repeat(200) }));
    await a.until((box) => errors({ inbox: box } as TestClient, "LIMIT_EXCEEDED").length > 0, 5000, "LIMIT_EXCEEDED");
    const late = await join(s.ws, "grow");
    const hello = JSON.parse(late.inbox[0] as string);
    const blob = hello.initial_state.entities.find((e: any) => e.id === "blob");
    const keys = Object.keys(blob.components);
    expect(keys.length).toBeLessThanOrEqual(64);
    expect(JSON.stringify(blob.components).length).toBeLessThanOrEqual(16_384 + 1000);
    // Every update was all-or-nothing: the keys present are exactly a prefix k0…kn.
    expect(keys.sort((x, y) => Number(x.slice(1)) - Number(y.slice(1)))).toEqual(keys.map((_, i) => `k${i}`));
    // One update bigger than an entity may be refuses the whole change.
    a.send(update("blob", { huge: "x".repeat(20_000), k0: "changed" }));
    await a.until((box) => jsonFrames(box).filter((m) => m.code === "LIMIT_EXCEEDED").length >= 2, 5000, "a second LIMIT_EXCEEDED");
    const again = await join(s.ws, "grow");
    const blob2 = JSON.parse(again.inbox[0] as string).initial_state.entities.find((e: any) => e.id === "blob");
    expect(blob2.components.k0).toBe(blob.components.k0);
    expect(blob2.components.huge).toBeUndefined();
    for (const c of [a, late, again]) await c.close();
    await stillServes(s, "grow");
  });

  test("a room filled with entities stops at MAX_ROOM_STATE_BYTES; a joiner gets the whole (bounded) state in its hello", async () => {
    const a = await join(s.ws, "fill");
    const big = "y".repeat(8000);
    for (let i = 0; i < 60; i++) a.send(spawn(`e${i}`, { data: big }));
    await a.until((box) => jsonFrames(box).some((m) => m.code === "LIMIT_EXCEEDED"), 5000, "LIMIT_EXCEEDED");
    const late = await join(s.ws, "fill");
    const hello = JSON.parse(late.inbox[0] as string);
    const n = hello.initial_state.entities.length;
    expect(n).toBeGreaterThan(20);
    expect(n).toBeLessThan(60);
    expect((late.inbox[0] as string).length).toBeLessThan(262_144 + 50_000);
    for (const c of [a, late]) await c.close();
  });

  test("an attacker builds the biggest room it can (24 MB tried), then 40 joiners never read their welcome: memory stays bounded, other rooms keep flowing", async () => {
    const owner = await join(s.ws, "heavy");
    const big = "z".repeat(8000);
    for (let i = 0; i < 3000; i++) owner.send(spawn(`h${i}`, { data: big }));
    owner.send(JSON.stringify({ type: "PING" }));
    await owner.until((box) => jsonFrames(box).some((m) => m.type === "PONG"), 20_000, "the spawns handled");
    const before = rssMb(s);
    // A quiet room elsewhere, to prove nothing freezes.
    const p = await join(s.ws, "elsewhere"), q = await join(s.ws, "elsewhere");
    const lurkers: TestClient[] = [];
    for (let i = 0; i < 40; i++) {
      const c = new TestClient(`${s.ws}/ws/heavy`);
      c.ws.onmessage = null; // never reads what it is sent (the socket still takes bytes, like a stalled tab)
      lurkers.push(c);
    }
    const t0 = Date.now();
    p.send("ping-through");
    await q.until((box) => box.includes("ping-through"), 2000, "a message in another room within 2 s");
    expect(Date.now() - t0).toBeLessThan(2000);
    await Bun.sleep(1000);
    const after = rssMb(s);
    expect(after - before).toBeLessThan(300); // 40 welcomes of 256 KiB, encoded once: not 40 × the world per format
    await stillServes(s);
    for (const c of lurkers) c.ws.close();
    for (const c of [owner, p, q]) await c.close();
    await eventually(async () => (await (await fetch(`${s.http}/ws/stats`)).json()).total_connections === 0, 15_000, "everyone gone");
  }, 30_000);
});
