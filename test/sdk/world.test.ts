/**
 * [sdk] Host, holds, reactions, moderation and the outcome of reliable sends, through the SDK
 * against a real server on every runtime: the host moves when it leaves, a grab race ends the
 * same for everyone (the loser's local grab undone), a holder's objects are free when it
 * leaves, a kicked client stays closed, and every reliable send learns ACCEPTED (with its seq)
 * or the ERROR that names it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GraphwizClient, GraphwizError, type ClientOptions, type HoldChange, type HostChange, type ModerationNotice, type ServerError } from "../../src/client/index.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";

async function until(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}
/** What a promise settled with: the value, or the error's code (and the server's code). */
const settled = <T>(p: Promise<T>): Promise<T | string> =>
  p.then((v) => v, (e: GraphwizError) => (e.serverError ? `${e.code}:${e.serverError.code}` : e.code));

describe.each(RUNTIMES)("host, holds, reactions, moderation, outcomes on %s", (runtime) => {
  let s: RunningServer;
  const open: GraphwizClient[] = [];
  beforeAll(async () => {
    s = await startServer(runtime, { RATE_LIMIT_MESSAGES: "100000", PING_INTERVAL_MS: "600000" });
  });
  afterAll(async () => {
    for (const c of open) if (c.state !== "closed") c.close();
    await s?.stop();
  });
  /** A connected client (reconnect off unless asked). */
  const join = async (room: string, clientId: string, opts: Partial<ClientOptions> = {}) => {
    const c = new GraphwizClient({ url: s.ws, room, clientId, displayName: clientId, reconnect: false, ...opts });
    open.push(c);
    await c.connect();
    return c;
  };

  test("host: the first member; when it leaves, the others get a host event naming the longest-present one", async () => {
    const ann = await join("host", "ann");
    const bob = await join("host", "bob", { format: "protobuf" });
    const cy = await join("host", "cy");
    for (const c of [ann, bob, cy]) expect(c.host).toBe("ann");
    const seen: string[] = [];
    for (const c of [bob, cy]) c.on("host", (h: HostChange) => seen.push(`${c.clientId}:${h.previous}->${h.host_client_id}:${h.self}:${h.source}`));
    ann.close();
    await until("both to see bob as host", () => seen.length === 2);
    expect(seen.sort()).toEqual(["bob:ann->bob:true:server", "cy:ann->bob:false:server"]);
    await Bun.sleep(100); // the PRESENCE_UPDATE announcing bob follows the leave: no second event
    expect(seen.length).toBe(2);
    const dan = await join("host", "dan");
    expect(dan.host).toBe("bob");
  });

  test("grabs: held by one client at a time; a race ends the same for all, the loser's local grab undone", async () => {
    const ann = await join("grab", "ann", { reliable: true });
    const bob = await join("grab", "bob", { format: "protobuf", reliable: true });
    const bobHolds: string[] = [];
    bob.on("hold", (h: HoldChange) => bobHolds.push(`${h.kind}:${h.entity_id}:${h.client_id}:${h.source}`));
    const cup = ann.grab("cup", { x: 1, y: 1, z: 0 });
    expect(ann.holds.get("cup")).toMatchObject({ entity_id: "cup", client_id: "ann", position: { x: 1, y: 1, z: 0 } });
    expect(await ann.outcome(cup)).toMatchObject({ ref_message_id: cup, seq: expect.any(Number) });
    await until("bob to see ann's grab", () => bob.holds.get("cup")?.client_id === "ann");
    // Held by ann as far as bob knows: not applied locally, and the server says CONFLICT.
    const taken = bob.grab("cup");
    expect(bob.holds.get("cup")!.client_id).toBe("ann");
    expect(await settled(bob.outcome(taken))).toBe("REJECTED:CONFLICT");
    // A release of what bob does not hold: FORBIDDEN; of what nobody holds: NOT_FOUND.
    expect(await settled(bob.outcome(bob.release("cup")))).toBe("REJECTED:FORBIDDEN");
    expect(await settled(bob.outcome(bob.release("nothing")))).toBe("REJECTED:NOT_FOUND");

    // Both grab the ball in the same instant: both apply it locally, the server takes one.
    const errors: string[] = [];
    for (const c of [ann, bob]) c.on("error", (e: ServerError) => errors.push(`${c.clientId}:${e.code}`));
    const reverts: string[] = [];
    for (const c of [ann, bob]) c.on("hold", (h: HoldChange) => h.source === "revert" && reverts.push(`${c.clientId}:${h.kind}:${h.entity_id}`));
    const outcomes = await Promise.all([settled(ann.outcome(ann.grab("ball"))), settled(bob.outcome(bob.grab("ball")))]);
    const loser = outcomes[0] === "REJECTED:CONFLICT" ? "ann" : "bob";
    expect(outcomes.filter((o) => o === "REJECTED:CONFLICT").length).toBe(1);
    expect(errors).toEqual([`${loser}:CONFLICT`]);
    await until("both to agree on the ball", () => ann.holds.get("ball")?.client_id === bob.holds.get("ball")?.client_id);
    expect(ann.holds.get("ball")!.client_id).toBe(loser === "ann" ? "bob" : "ann");
    // The loser's local grab was undone — unless the winner's grab had already replaced it.
    expect(reverts.every((r) => r === `${loser}:release:ball`)).toBe(true);

    // ann throws the cup: bob sees the release with its velocity.
    const thrown = bob.next("hold", (h) => h.kind === "release" && h.entity_id === "cup");
    ann.release("cup", { x: 2, y: 0, z: 0 }, { x: 0, y: 3, z: 0 });
    expect(ann.holds.has("cup")).toBe(false);
    expect((await thrown)[0]).toMatchObject({ client_id: "ann", position: { x: 2, y: 0, z: 0 }, velocity: { x: 0, y: 3, z: 0 }, source: "server" });
    expect(bobHolds.slice(0, 1)).toEqual(["grab:cup:ann:server"]);
  });

  test("a holder's objects are free when it leaves; a late joiner sees who holds what", async () => {
    const ann = await join("leave-holds", "ann");
    const bob = await join("leave-holds", "bob");
    ann.grab("mug", { x: 0, y: 1, z: 0 });
    ann.grab("lamp");
    await until("bob to see both holds", () => bob.holds.size === 2);
    const late = await join("leave-holds", "late", { format: "protobuf" });
    expect([...late.holds.values()].map((h) => `${h.entity_id}:${h.client_id}`).sort()).toEqual(["lamp:ann", "mug:ann"]);
    expect(late.holds.get("mug")!.position).toEqual({ x: 0, y: 1, z: 0 });
    const released: string[] = [];
    late.on("hold", (h) => released.push(`${h.kind}:${h.entity_id}`));
    ann.close();
    await until("bob and late to see everything released", () => bob.holds.size === 0 && late.holds.size === 0);
    expect(released.sort()).toEqual(["release:lamp", "release:mug"]);
    expect(bob.players.has("ann")).toBe(false);
  });

  test("reactions reach the others with the sender's id, emoji and position", async () => {
    const ann = await join("react", "ann");
    const bob = await join("react", "bob", { format: "protobuf" });
    const heard = bob.next("reaction");
    const id = ann.react("🎉", { x: 1, y: 2, z: 3 });
    const [reaction] = await heard;
    expect(reaction).toMatchObject({ from_client_id: "ann", emoji: "🎉", position: { x: 1, y: 2, z: 3 }, reaction_id: id });
    expect(reaction.timestamp).toBeGreaterThan(0);
  });

  test("moderation: the room hears mute and kick; the kicked client is closed with 4430 and never reconnects", async () => {
    const host = await join("mod", "host");
    const target = await join("mod", "target", { reconnect: { initialMs: 50, maxMs: 100 } });
    const heard: ModerationNotice[] = [];
    host.on("moderation", (m) => heard.push(m));
    const post = (path: string, body: unknown) => fetch(`${s.http}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const muted = target.next("moderation");
    expect((await post("/moderation/mute", { roomId: "mod", targetClientId: "target", muted: true, mutedByClientId: "host", reason: "loud" })).status).toBe(200);
    expect((await muted)[0]).toEqual({ action: "MUTE", target_client_id: "target", by_client_id: "host", reason: "loud", self: true });
    const closes: { code: number; willReconnect: boolean }[] = [];
    const errors: ServerError[] = [];
    target.on("close", (c) => closes.push(c));
    target.on("error", (e) => errors.push(e));
    expect((await post("/moderation/kick", { roomId: "mod", targetClientId: "target", kickedByClientId: "host", reason: "spam" })).status).toBe(200);
    await until("the kick", () => closes.length === 1);
    expect(closes[0]).toMatchObject({ code: 4430, willReconnect: false });
    expect(errors.map((e) => [e.code, e.close_code])).toEqual([["DISCONNECT", 4430]]);
    await until("the host to hear the kick", () => heard.length === 2);
    expect(heard[1]).toEqual({ action: "KICK", target_client_id: "target", by_client_id: "host", reason: "spam", self: false });
    await until("the host to see the target leave", () => !host.players.has("target"));
    await Bun.sleep(400); // several backoff delays: no reconnect attempt
    expect(target.state).toBe("closed");
    expect(closes.length).toBe(1);
    const stats = await (await fetch(`${s.http}/ws/mod/stats`)).json();
    expect(stats.connections.map((c: { client_id: string }) => c.client_id)).toEqual(["host"]);
  });

  test("reliable sends: ACCEPTED resolves with the seq; an ERROR naming a send rejects it; ACKs carry the epoch", async () => {
    const ann = await join("outcome", "ann", { reliable: true });
    const bob = await join("outcome", "bob", { reliable: true, format: "protobuf" });
    const accepted: string[] = [];
    ann.on("accepted", (a) => accepted.push(a.ref_message_id));
    const heard = bob.next("chat");
    const chat = ann.sendChat("one");
    const spawn = ann.spawnEntity({ entity_id: "box" });
    const [c, sp] = await Promise.all([ann.outcome(chat), ann.outcome(spawn)]);
    expect(c.epoch).toBe(ann.epoch);
    expect(sp.seq).toBe(c.seq + 1);
    expect(accepted).toEqual([chat, spawn]);
    const got = await heard;
    expect(got[1].seq).toBe(c.seq); // the seq the sender learned is the one every member got
    // Refusals: a taken id (CONFLICT), another's entity (FORBIDDEN); the local change is undone first.
    const again = bob.spawnEntity({ entity_id: "box" });
    const steal = bob.despawnEntity("box");
    expect(await settled(bob.outcome(again))).toBe("REJECTED:CONFLICT");
    expect(await settled(bob.outcome(steal))).toBe("REJECTED:FORBIDDEN");
    expect(bob.entities.get("box")!.owner_id).toBe("ann");
    // Not tracked: an unlogged kind, an unknown id.
    expect(await settled(ann.outcome(ann.sendPosition({ x: 1, y: 0, z: 0 })))).toBe("NO_OUTCOME");
    expect(await settled(ann.outcome("nope"))).toBe("NO_OUTCOME");
    // Late asking still gets the answer.
    expect(await ann.outcome(chat)).toEqual(c);
    // Everything ann received is acknowledged with its epoch: the server keeps nothing unacked.
    const acks: unknown[] = [];
    const socket = ann.socket!;
    const send = socket.send.bind(socket);
    socket.send = (data) => (typeof data === "string" && data.includes('"ACK"') && acks.push(JSON.parse(data).payload), send(data));
    for (let i = 0; i < 5; i++) bob.sendChat(`n${i}`);
    await until("ann to get them", () => ann.lastSeq >= c.seq + 7);
    await until("ann to acknowledge them", () => acks.length > 0);
    expect(acks.at(-1)).toEqual({ seq: ann.lastSeq, epoch: ann.epoch });
    const unacked = async () => (await (await fetch(`${s.http}/ws/outcome/stats`)).json()).connections.find((x: { client_id: string }) => x.client_id === "ann").unacked;
    const deadline = Date.now() + 3000;
    while ((await unacked()) !== 0 && Date.now() < deadline) await Bun.sleep(50);
    expect(await unacked()).toBe(0);
  });
});
