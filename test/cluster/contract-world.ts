/** The contract of {@link WorldStore}: a room's state loaded with its log position, and poses (see harness.ts). */
import { expect, test } from "bun:test";
import { bytes, holder, texts } from "./fixtures.ts";
import { chat, type Suite } from "./harness.ts";

export const worldContract: Suite = (h) => {
  test("load: players, entities and holders written from every node, at the log's position", async () => {
    const [a, b] = await h.nodes(2);
    await a!.claims.claim("w", "alice", holder("alice", "conn-1"));
    await b!.claims.claim("w", "bob", holder("bob", "s2", "node-b", "conn-2"), "s2");
    await b!.claims.detach("w", "bob", "s2", "conn-2", h.clock.now() + 1000);
    await a!.log.append("w", [chat("a joins")], { players: [["alice", bytes("pa")]], entities: [["e1", "alice", bytes("e1")]] });
    await b!.log.append("w", [chat("b joins")], { players: [["bob", bytes("pb")]], entities: [["e2", "bob", bytes("e2")]] });
    await b!.log.append("w", [], { players: [["bob", bytes("pb2")]] }); // latest wins
    const snap = await a!.world.load("w");
    const head = await b!.log.head("w");
    expect([snap.epoch, snap.seq]).toEqual([head.epoch, 2]);
    expect(texts(snap.players)).toEqual(["pa", "pb2"]);
    expect(texts(snap.entities)).toEqual(["e1", "e2"]);
    expect(new Map([...snap.holders].sort())).toEqual(
      new Map([
        ["alice", holder("alice", "conn-1")],
        ["bob", { user: "bob", token: "s2", node: "node-b", detachedUntil: h.clock.now() + 1000 }],
      ]),
    );
    await a!.log.append("w", [chat("despawn")], { despawn: ["e2", "never-was"] });
    expect(texts((await b!.world.load("w")).entities)).toEqual(["e1"]);
  });

  test("load of a room nobody used makes its epoch: empty, at seq 0, the epoch its first append gets", async () => {
    const [a, b] = await h.nodes(2);
    const snap = await a!.world.load("fresh");
    expect(snap.seq).toBe(0);
    expect(snap.epoch).toBeGreaterThan(0);
    expect([snap.players, snap.entities, snap.holders.size]).toEqual([[], [], 0]);
    const r = await b!.log.append("fresh", [chat("1")]);
    expect([r!.entries[0]!.epoch, r!.entries[0]!.seq]).toEqual([snap.epoch, 1]);
    expect(await b!.log.read("fresh", snap.epoch, 0, 10)).toHaveLength(1);
  });

  test("load is consistent with the log position while another node appends (every entry up to seq, none after)", async () => {
    const [a, b] = await h.nodes(2);
    const n = 150;
    const appends: unknown[] = [];
    // append i writes player p<i>: a snapshot at seq s must hold exactly p1..ps
    for (let i = 1; i <= n; i++) appends.push(a!.log.append("busy", [chat(`${i}`)], { players: [[`c${i}`, bytes(`p${i}`)]] }));
    const snaps = [];
    for (let k = 0; k < 20; k++) snaps.push(await b!.world.load("busy"));
    await Promise.all(appends);
    snaps.push(await b!.world.load("busy"));
    for (const s of snaps) {
      const want = Array.from({ length: s.seq }, (_, i) => `p${i + 1}`).sort();
      expect(texts(s.players)).toEqual(want);
    }
    expect(snaps.at(-1)!.seq).toBe(n);
  });

  test("setPose replaces a stored player or entity, and never resurrects or creates one", async () => {
    const [a, b] = await h.nodes(2);
    await a!.claims.claim("pose", "c1", holder("u1", "conn-1"));
    await a!.log.append("pose", [], { players: [["c1", bytes("p1")], ["c2", bytes("p2")]], entities: [["e1", "c1", bytes("e1")], ["e2", "c2", bytes("e2")]] });
    await b!.world.setPose("pose", "player", "c2", bytes("p2-moved"));
    await b!.world.setPose("pose", "entity", "e1", bytes("e1-moved"));
    let snap = await a!.world.load("pose");
    expect(texts(snap.players)).toEqual(["p1", "p2-moved"]);
    expect(texts(snap.entities)).toEqual(["e1-moved", "e2"]);

    // c1 leaves (its e1 with it), e2 is despawned: late poses for them change nothing
    await a!.log.append("pose", [chat("leave")], { guard: { clientId: "c1", token: "conn-1" }, release: true });
    await a!.log.append("pose", [chat("despawn")], { despawn: ["e2"] });
    await b!.world.setPose("pose", "player", "c1", bytes("p1-late"));
    await b!.world.setPose("pose", "entity", "e1", bytes("e1-late"));
    await b!.world.setPose("pose", "entity", "e2", bytes("e2-late"));
    // never existed, in a room that exists and in one that does not
    await b!.world.setPose("pose", "player", "ghost", bytes("ghost"));
    await b!.world.setPose("pose", "entity", "ghost-e", bytes("ghost-e"));
    await b!.world.setPose("nowhere", "player", "x", bytes("x"));
    // a pose is not a spawn: "c2" as an entity id or "e…" as a player stay absent
    await b!.world.setPose("pose", "entity", "c2", bytes("wrong kind"));
    snap = await a!.world.load("pose");
    expect(texts(snap.players)).toEqual(["p2-moved"]);
    expect(texts(snap.entities)).toEqual([]);
    expect((await a!.world.load("nowhere")).players).toEqual([]);
  });

  test("an entity's pose keeps its owner: the owner's release still removes it", async () => {
    const [a, b] = await h.nodes(2);
    await a!.claims.claim("own", "c1", holder(null, "conn-1"));
    await a!.log.append("own", [], { entities: [["e1", "c1", bytes("e1")]] });
    await b!.world.setPose("own", "entity", "e1", bytes("e1-moved"));
    const r = await b!.log.append("own", [], { guard: { clientId: "c1", token: "conn-1" }, release: true });
    expect(r!.orphans).toEqual(["e1"]);
    expect((await a!.world.load("own")).entities).toEqual([]);
  });
};
