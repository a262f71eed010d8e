/**
 * The contract of {@link RoomChange}, the room change of a {@link RoomLog} append: guards on who
 * holds a client id, and releases (see harness.ts).
 */
import { expect, test } from "bun:test";
import type { ClusterBackend, RoomChange } from "../../src/cluster/types.ts";
import { bytes, holder, texts } from "./fixtures.ts";
import { chat, collect, type Suite } from "./harness.ts";
import { holdOf } from "./contract-claims.ts";

/** Everything a node can see of a room, for before/after comparisons. */
async function view(x: ClusterBackend, room: string, sessions: string[]) {
  const snap = await x.world.load(room);
  return {
    head: await x.log.head(room),
    players: texts(snap.players),
    entities: texts(snap.entities),
    holders: [...snap.holders].sort(([p], [q]) => p.localeCompare(q)),
    sessions: await Promise.all(sessions.map((s) => x.claims.sessionClient(room, s))),
  };
}

export const changeContract: Suite = (h) => {
  test("a guarded append that does not hold is refused: null, nothing changed, nothing published, seq unchanged", async () => {
    const [a, b] = await h.nodes(2);
    const gotB = collect(b!);
    await b!.bus.subscribe("g");
    await a!.claims.claim("g", "c1", holder("alice", "s1", "node-a", "conn-1"), "s1");
    await a!.log.append("g", [chat("setup")], { players: [["c1", bytes("p1")]], entities: [["e1", "c1", bytes("e1")]] });
    await a!.claims.claim("g", "c2", holder("bob", "s2", "node-a", "conn-2"), "s2");
    await a!.claims.detach("g", "c2", "s2", "conn-2", h.clock.now() + 1000);
    await h.settle();
    const before = await view(b!, "g", ["s1", "s2"]);
    const published = a!.bus.counters.published;
    const received = b!.bus.counters.received;

    const refused: RoomChange["guard"][] = [
      { clientId: "nobody", token: "s1" }, // not held
      { clientId: "c1", token: "s-wrong" }, // another token
      { clientId: "c1", token: "s1", conn: "conn-wrong" }, // held through another connection
      { clientId: "c1", token: "s1", detached: true }, // attached, not detached
      { clientId: "c2", token: "s2", conn: "conn-2" }, // detached: no connection holds it
      { clientId: "c2", token: "s1", detached: true }, // detached, but not by that token
      { clientId: "c2", token: "s2", detached: true }, // detached, but its window is still open
      { clientId: "c1", token: "s1", user: "mallory" }, // another user's hold
      { clientId: "c1", token: "s1", user: null }, // not an anonymous hold
    ];
    for (const guard of refused) {
      const change: RoomChange = { guard, release: true, players: [["c9", bytes("p9")]], entities: [["e9", "c9", bytes("e9")]], despawn: ["e1"] };
      expect(await a!.log.append("g", [chat("refused"), chat("refused too")], change)).toBeNull();
    }
    await h.settle();
    expect(await view(b!, "g", ["s1", "s2"])).toEqual(before);
    expect(a!.bus.counters.published).toBe(published);
    expect(b!.bus.counters.received).toBe(received);
    expect(gotB.length).toBe(1); // the setup frame only

    // the same guards that hold are granted
    const ok = await a!.log.append("g", [chat("granted")], { guard: { clientId: "c1", token: "s1", conn: "conn-1" }, players: [["c1", bytes("p1b")]] });
    expect(ok!.entries.map((e) => e.seq)).toEqual([before.head.seq + 1]);
    expect(await a!.log.append("g", [], { guard: { clientId: "c1", token: "s1" } })).toEqual({ entries: [], orphans: [] });
    expect(await a!.log.append("g", [], { guard: { clientId: "c1", token: "s1", user: "alice" } })).toEqual({ entries: [], orphans: [] });
    h.clock.advance(1000); // c2's window closes
    expect(await a!.log.append("g", [], { guard: { clientId: "c2", token: "s2", detached: true } })).toEqual({ entries: [], orphans: [] });
    expect((await view(b!, "g", [])).players).toEqual(["p1b"]);
  });

  test("a release drops the hold, its session index, its player and every entity it owns; the unnamed ones come back as orphans", async () => {
    const [a, b] = await h.nodes(2);
    const gotB = collect(b!);
    await b!.bus.subscribe("rel");
    await a!.claims.claim("rel", "c1", holder("alice", "s1", "node-a", "conn-1"), "s1");
    await b!.claims.claim("rel", "c2", holder("bob", "s2", "node-b", "conn-2"), "s2");
    await a!.log.append("rel", [chat("spawn")], {
      players: [["c1", bytes("p1")], ["c2", bytes("p2")]],
      entities: [["e1", "c1", bytes("e1")], ["e2", "c1", bytes("e2")], ["e3", "c1", bytes("e3")], ["e4", "c2", bytes("e4")], ["e5", "c1", bytes("e5")]],
    });
    // e5 changes hands: it is c2's now
    await b!.log.append("rel", [], { entities: [["e5", "c2", bytes("e5b")]] });

    const r = await b!.log.append("rel", [chat("leave")], { guard: { clientId: "c1", token: "s1", conn: "conn-1" }, release: true, despawn: ["e1"] });
    expect(r!.entries.map((e) => e.seq)).toEqual([2]);
    expect(r!.orphans.sort()).toEqual(["e2", "e3"]);
    const after = await view(a!, "rel", ["s1", "s2"]);
    expect(after.players).toEqual(["p2"]);
    expect(after.entities).toEqual(["e4", "e5b"]);
    expect(after.holders.map(([id]) => id)).toEqual(["c2"]);
    expect(after.sessions).toEqual([undefined, "c2"]);
    // released once: the same departure again is refused
    expect(await a!.log.append("rel", [chat("leave again")], { guard: { clientId: "c1", token: "s1", conn: "conn-1" }, release: true })).toBeNull();
    expect((await a!.log.head("rel")).seq).toBe(2);
    // the owner of e5 leaving takes it along
    const r2 = await a!.log.append("rel", [], { guard: { clientId: "c2", token: "s2" }, release: true });
    expect(r2!.orphans.sort()).toEqual(["e4", "e5"]);
    expect(await view(b!, "rel", [])).toMatchObject({ players: [], entities: [], holders: [] });
    await h.settle();
    expect(gotB.map((g) => g.from)).toEqual(["node-a"]); // the spawn frame; the rest was B's own or frameless
  });

  test("a release of a detached hold needs the detached guard and a closed window, and ends it once", async () => {
    const [a, b] = await h.nodes(2);
    const until = h.clock.now() + 100;
    await a!.claims.claim("w", "c1", holder(null, "s1", "node-a", "conn-1"), "s1");
    await a!.log.append("w", [], { players: [["c1", bytes("p1")]], entities: [["e1", "c1", bytes("e1")]] });
    await a!.claims.detach("w", "c1", "s1", "conn-1", until);
    // the window is still open: no departure yet
    expect(await a!.log.append("w", [chat("leave")], { guard: { clientId: "c1", token: "s1", detached: true }, release: true })).toBeNull();
    h.clock.advance(100);
    const [d] = await b!.claims.due(until, 10);
    expect(d).toEqual({ room: "w", clientId: "c1", token: "s1" });
    // two sweepers race for the same due hold: one leave
    expect(await a!.log.append("w", [chat("leave")], { guard: { clientId: "c1", token: "s1", detached: true, user: "alice" }, release: true })).toBeNull(); // anonymous hold
    const results = await Promise.all([a!, b!].map((x) => x.log.append("w", [chat("leave")], { guard: { clientId: "c1", token: "s1", detached: true, user: null }, release: true })));
    expect(results.filter((x) => x !== null).length).toBe(1);
    expect(results.find((x) => x !== null)!.orphans).toEqual(["e1"]);
    expect(await view(a!, "w", ["s1"])).toMatchObject({ players: [], entities: [], holders: [], sessions: [undefined] });
    expect(await holdOf(b!, "w", "c1")).toBeUndefined();
    expect(await b!.claims.due(until + 1000, 10)).toEqual([]);
  });

  test("a due departure never ends a newer window: resumed and detached again meanwhile, the hold stays (and stays due) until that one closes", async () => {
    const [a, b] = await h.nodes(2);
    const t = h.clock.now();
    const leave = { guard: { clientId: "c1", token: "s1", detached: true }, release: true };
    await a!.claims.claim("race", "c1", holder("u", "s1", "node-a", "conn-1"), "s1");
    await a!.claims.detach("race", "c1", "s1", "conn-1", t + 100);
    h.clock.advance(150);
    expect(await a!.claims.due(h.clock.now(), 10)).toEqual([{ room: "race", clientId: "c1", token: "s1" }]);
    // before the sweeper's departure lands, the client resumes on B and drops again: a new window
    await b!.claims.claim("race", "c1", holder("u", "s1", "node-b", "conn-2"));
    await b!.claims.detach("race", "c1", "s1", "conn-2", t + 5_000);
    expect(await a!.log.append("race", [chat("leave")], leave)).toBeNull();
    await a!.claims.done({ room: "race", clientId: "c1", token: "s1" }); // the sweeper is done with the old window
    expect(await holdOf(b!, "race", "c1")).toEqual({ user: "u", token: "s1", node: "node-b", detachedUntil: t + 5_000 });
    h.clock.advance(5_000);
    expect(await b!.claims.due(h.clock.now(), 10)).toEqual([{ room: "race", clientId: "c1", token: "s1" }]);
    expect(await b!.log.append("race", [chat("leave")], leave)).toMatchObject({ orphans: [] });
    expect(await holdOf(a!, "race", "c1")).toBeUndefined();
  });

  test("presence: a join is appended only while the store lacks the player, a leave only while it has it; the rest of the change applies either way", async () => {
    const [a, b] = await h.nodes(2);
    await a!.claims.claim("p", "c1", holder("alice", "s1", "node-a", "conn-1"), "s1");
    const guard = { clientId: "c1", token: "s1" };
    const join: RoomChange = { guard, players: [["c1", bytes("p1")]], presence: "join" };
    const first = await a!.log.append("p", [chat("join")], join);
    expect(first!.entries).toHaveLength(1);
    // another instance that has not seen it yet announces the same client again: nothing appended, the player stored anew
    const again = await b!.log.append("p", [chat("join again")], { guard, players: [["c1", bytes("p1b")]], presence: "join" });
    expect(again).toEqual({ entries: [], orphans: [] });
    expect(texts((await b!.world.load("p")).players)).toEqual(["p1b"]);
    expect((await b!.log.head("p")).seq).toBe(first!.entries[0]!.seq);
    // a leave while the player is stored is appended (and releases)
    await a!.log.append("p", [chat("spawn")], { guard, entities: [["e1", "c1", bytes("e1")]] });
    const leave = await b!.log.append("p", [chat("leave")], { guard, release: true, presence: "leave" });
    expect(leave!.entries).toHaveLength(1);
    expect(leave!.orphans).toEqual(["e1"]);
    // a client whose join never reached the store leaves quietly: released, nothing announced
    await a!.claims.claim("p", "c2", holder("bob", "s2", "node-a", "conn-2"), "s2");
    const head = (await a!.log.head("p")).seq;
    expect(await a!.log.append("p", [chat("leave c2")], { guard: { clientId: "c2", token: "s2" }, release: true, presence: "leave" })).toEqual({ entries: [], orphans: [] });
    expect((await a!.log.head("p")).seq).toBe(head);
    expect(await holdOf(a!, "p", "c2")).toBeUndefined();
  });

  test("a reset drops the guard's player and entities but keeps its hold (a session that ended unheard gives way to a new one)", async () => {
    const [a] = await h.nodes(1);
    await a!.claims.claim("r", "c1", holder("alice", "s1", "node-a", "conn-1"), "s1");
    const guard = { clientId: "c1", token: "s1" };
    await a!.log.append("r", [chat("join")], { guard, players: [["c1", bytes("p1")]], entities: [["e1", "c1", bytes("e1")]] });
    const r = await a!.log.append("r", [chat("leave")], { guard, reset: true, presence: "leave" });
    expect(r!.entries).toHaveLength(1);
    expect(r!.orphans).toEqual(["e1"]);
    const snap = await a!.world.load("r");
    expect(snap.players).toEqual([]);
    expect(snap.entities).toEqual([]);
    expect(await holdOf(a!, "r", "c1")).toMatchObject({ token: "s1" });
    expect(await a!.claims.sessionClient("r", "s1")).toBe("c1");
  });

  test("superseded: a late deliberate end of a session whose client id was taken over drops only what the client owned at the takeover, once; the hold and player stay", async () => {
    const [a, b] = await h.nodes(2);
    await a!.claims.claim("t", "c1", holder("alice", "s1", "node-a", "conn-1"), "s1");
    await a!.log.append("t", [chat("setup")], {
      players: [["c1", bytes("p1")]],
      entities: [["e1", "c1", bytes("e1")], ["e2", "c1", bytes("e2")], ["e3", "c2", bytes("e3")]],
    });
    // s1 ends deliberately, but the store hears of it only after the same user is back through B
    expect(await b!.claims.claim("t", "c1", holder("alice", "s2", "node-b", "conn-2"), "s2")).toMatchObject({ ok: true, previous: { token: "s1" } });
    await b!.log.append("t", [chat("spawn")], { guard: { clientId: "c1", token: "s2" }, entities: [["e4", "c1", bytes("e4")]], despawn: ["e2"] });
    // the new session resumes elsewhere (a re-attach): the takeover is still remembered
    await b!.claims.detach("t", "c1", "s2", "conn-2", h.clock.now() + 5_000);
    await a!.claims.claim("t", "c1", holder("alice", "s2", "node-a", "conn-3"));
    const head = (await a!.log.head("t")).seq;
    expect(await a!.log.append("t", [chat("leave")], { guard: { clientId: "c1", token: "s1", conn: "conn-1" }, release: true })).toBeNull();
    expect(await a!.log.append("t", [chat("leave")], { guard: { clientId: "c1", token: "s-other", superseded: true } })).toBeNull();
    expect(await a!.log.append("t", [chat("leave")], { guard: { clientId: "c1", token: "s1", superseded: true, user: "mallory" } })).toBeNull();
    expect(await a!.log.append("t", [chat("leave")], { guard: { clientId: "c1", token: "s1", superseded: true, user: "alice" } })).toEqual({ entries: [], orphans: ["e1"] });
    expect(await b!.log.append("t", [chat("leave")], { guard: { clientId: "c1", token: "s1", superseded: true } })).toBeNull(); // once
    expect((await a!.log.head("t")).seq).toBe(head);
    const after = await view(b!, "t", ["s1", "s2"]);
    expect(after.players).toEqual(["p1"]);
    expect(after.entities).toEqual(["e3", "e4"]);
    expect(after.holders).toEqual([["c1", { user: "alice", token: "s2", node: "node-a", conn: "conn-3" }]]);
    expect(after.sessions).toEqual([undefined, "c1"]);
  });

  test("superseded: a chain of takeovers remembers each replaced session; moving a hold to a session of the same connection, a release or another user forgets nothing wrongly", async () => {
    const [a] = await h.nodes(1);
    const late = (token: string) => a!.log.append("ch", [chat("leave")], { guard: { clientId: "c1", token, superseded: true } });
    await a!.claims.claim("ch", "c1", holder("alice", "k1", "node-a", "conn-1"));
    await a!.log.append("ch", [], { entities: [["e1", "c1", bytes("e1")]] });
    // the connection moves its hold to a session (acknowledged delivery turned on): not a takeover
    await a!.claims.claim("ch", "c1", holder("alice", "s1", "node-a", "conn-1"), "s1");
    expect(await late("k1")).toBeNull();
    await a!.claims.claim("ch", "c1", holder("alice", "s2", "node-b", "conn-2"), "s2");
    await a!.log.append("ch", [], { entities: [["e2", "c1", bytes("e2")]] });
    await a!.claims.claim("ch", "c1", holder("alice", "s3", "node-c", "conn-3"), "s3");
    // another user cannot take it: the remembered sessions stay with the holder
    expect(await a!.claims.claim("ch", "c1", holder("mallory", "m1", "node-c", "conn-9"), "m1")).toMatchObject({ ok: false });
    expect((await late("s2"))!.orphans.sort()).toEqual(["e1", "e2"]);
    expect(await late("s1")).toEqual({ entries: [], orphans: [] }); // e1 is gone already
    await a!.log.append("ch", [], { entities: [["e3", "c1", bytes("e3")]] });
    await a!.claims.claim("ch", "c1", holder("alice", "s4", "node-c", "conn-4"), "s4");
    await a!.log.append("ch", [], { guard: { clientId: "c1", token: "s4" }, release: true });
    await a!.claims.claim("ch", "c1", holder("alice", "s5", "node-c", "conn-5"), "s5");
    expect(await late("s3")).toBeNull(); // released since: a free client id remembers nothing
  });
};
