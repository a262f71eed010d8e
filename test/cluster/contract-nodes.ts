/** The contract of {@link MemberStore} and {@link NodeRegistry}: members, liveness and reaping (see harness.ts). */
import { expect, test } from "bun:test";
import type { ClusterBackend, DeadNode, MemberInfo } from "../../src/cluster/types.ts";
import { bytes, holder, member, texts } from "./fixtures.ts";
import { TTL, type Suite } from "./harness.ts";
import { holdOf } from "./contract-claims.ts";

const beat = (x: ClusterBackend, connections = 0, rooms: string[] = []) => x.nodes.heartbeat({ node_id: x.nodeId, connections, last_heartbeat: 0 }, rooms);
const sorted = (ms: MemberInfo[]) => ms.sort((x, y) => x.connection_id.localeCompare(y.connection_id));
/** A dead node's report in a stable order. */
const tidy = (d: DeadNode) => ({
  node_id: d.node_id,
  rooms: d.rooms
    .map((r) => ({ room: r.room, members: sorted(r.members).map((m) => m.connection_id), departed: r.departed.sort((p, q) => p.clientId.localeCompare(q.clientId)) }))
    .sort((p, q) => p.room.localeCompare(q.room)),
});

export const nodesContract: Suite = (h) => {
  test("members are listed across nodes, copied, and removed by connection", async () => {
    const [a, b] = await h.nodes(2);
    const alice = { ...member("node-a", "lobby", "conn-a1", "alice"), token: "s-alice" };
    await a!.members.add(alice);
    await b!.members.add(member("node-b", "lobby", "conn-b1", "bob"));
    await b!.members.add(member("node-b", "elsewhere", "conn-b2", "bob"));
    alice.display_name = "mutated";
    const fromA = sorted(await a!.members.list("lobby"));
    expect(fromA).toEqual([{ ...member("node-a", "lobby", "conn-a1", "alice"), token: "s-alice" }, member("node-b", "lobby", "conn-b1", "bob")]);
    expect(sorted(await b!.members.list("lobby"))).toEqual(fromA);
    await b!.members.remove("lobby", "conn-b1");
    await b!.members.remove("lobby", "never-there");
    expect((await a!.members.list("lobby")).map((m) => m.client_id)).toEqual(["alice"]);
    expect((await a!.members.list("elsewhere")).map((m) => m.client_id)).toEqual(["bob"]);
    expect(await a!.members.list("nobody-here")).toEqual([]);
  });

  test("heartbeats: live nodes listed with their counts, stamped by the store; silent nodes drop out", async () => {
    const [a, b] = await h.nodes(2);
    expect(await a!.nodes.heartbeat({ node_id: "node-a", connections: 3, last_heartbeat: 0, runtime: "bun", version: "1.2.3" }, [])).toEqual({ forgotten: false });
    await b!.nodes.heartbeat({ node_id: "node-b", connections: 4, last_heartbeat: 0, runtime: "deno" }, ["lobby"]);
    const nodes = (await b!.nodes.nodes()).sort((x, y) => x.node_id.localeCompare(y.node_id));
    expect(nodes).toEqual([
      { node_id: "node-a", connections: 3, last_heartbeat: h.clock.now(), runtime: "bun", version: "1.2.3" },
      { node_id: "node-b", connections: 4, last_heartbeat: h.clock.now(), runtime: "deno" },
    ]);
    h.clock.advance(TTL / 2);
    expect(await beat(a!, 5)).toEqual({ forgotten: false });
    h.clock.advance(TTL / 2 + 1);
    expect(await a!.nodes.nodes()).toEqual([{ node_id: "node-a", connections: 5, last_heartbeat: h.clock.now() - TTL / 2 - 1 }]);
  });

  test("reap: a silent node's members go, its session holds are detached for the window, its plain holds reported departed", async () => {
    const [a, b] = await h.nodes(2);
    await beat(a!);
    await beat(b!);
    // on B: alice (a session) and bob (plain) in r1, carol (plain) in r2; on A: dave in r1
    await a!.members.add(member("node-a", "r1", "conn-dave", "dave"));
    await a!.claims.claim("r1", "dave", holder("dave", "conn-dave"));
    await b!.members.add(member("node-b", "r1", "conn-alice", "alice"));
    await b!.claims.claim("r1", "alice", holder("alice", "s-alice", "node-b", "conn-alice"), "s-alice");
    await b!.members.add(member("node-b", "r1", "conn-bob", "bob"));
    await b!.claims.claim("r1", "bob", holder("bob", "conn-bob", "node-b"));
    await b!.members.add(member("node-b", "r2", "conn-carol", "carol"));
    await b!.claims.claim("r2", "carol", holder(null, "conn-carol", "node-b"));
    // erin's session on B was already detached (her window runs on): the reaper leaves it alone
    await b!.claims.claim("r2", "erin", holder("erin", "s-erin", "node-b", "conn-erin"), "s-erin");
    await b!.claims.detach("r2", "erin", "s-erin", "conn-erin", h.clock.now() + 50_000);
    await b!.log.append("r1", [], { players: [["alice", bytes("pa")], ["bob", bytes("pb")], ["dave", bytes("pd")]] });

    expect(await a!.nodes.reap(5_000)).toEqual([]); // nobody dead yet
    h.clock.advance(TTL + 1);
    await beat(a!); // A lives on, B is silent
    const now = h.clock.now();
    const dead = await a!.nodes.reap(5_000);
    expect(dead.map(tidy)).toEqual([
      {
        node_id: "node-b",
        rooms: [
          { room: "r1", members: ["conn-alice", "conn-bob"], departed: [{ clientId: "bob", token: "conn-bob" }] },
          { room: "r2", members: ["conn-carol"], departed: [{ clientId: "carol", token: "conn-carol" }] },
        ],
      },
    ]);
    expect(dead[0]!.rooms.find((r) => r.room === "r1")!.members.find((m) => m.client_id === "alice")).toEqual(member("node-b", "r1", "conn-alice", "alice"));
    expect((await a!.members.list("r1")).map((m) => m.connection_id)).toEqual(["conn-dave"]);
    expect(await a!.members.list("r2")).toEqual([]);
    // alice may resume within the window: her hold is detached, nothing of hers is gone yet
    expect(await holdOf(a!, "r1", "alice")).toEqual({ user: "alice", token: "s-alice", node: "node-b", detachedUntil: now + 5_000 });
    expect(await a!.claims.sessionClient("r1", "s-alice")).toBe("alice");
    // bob's hold stays until the survivor departs him (a guarded release)
    expect(await holdOf(a!, "r1", "bob")).toEqual(holder("bob", "conn-bob", "node-b"));
    expect(texts((await a!.world.load("r1")).players)).toEqual(["pa", "pb", "pd"]);
    expect(await holdOf(a!, "r2", "erin")).toMatchObject({ detachedUntil: now + 50_000 - TTL - 1 });
    expect(await a!.claims.due(now + 4_999, 10)).toEqual([]);
    expect(await a!.claims.due(now + 5_000, 10)).toEqual([{ room: "r1", clientId: "alice", token: "s-alice" }]);
    expect((await a!.nodes.nodes()).map((n) => n.node_id)).toEqual(["node-a"]);
    expect(await a!.nodes.reap(5_000)).toEqual([]); // reported once

    // B comes back: its heartbeat says it was forgotten, once
    expect(await beat(b!)).toEqual({ forgotten: true });
    expect(await beat(b!)).toEqual({ forgotten: false });
  });

  test("exactly one survivor reaps a dead node when several race", async () => {
    const [a, b, c] = await h.nodes(3);
    await beat(c!);
    for (let i = 0; i < 5; i++) {
      await c!.members.add(member("node-c", `room${i}`, `c${i}`, `client${i}`));
      await c!.claims.claim(`room${i}`, `client${i}`, holder(null, `c${i}`, "node-c"));
    }
    h.clock.advance(TTL + 1);
    await beat(a!);
    await beat(b!);
    const results = await Promise.all([a!.nodes.reap(1000), b!.nodes.reap(1000), a!.nodes.reap(1000), b!.nodes.reap(1000)]);
    const reports = results.flat();
    expect(reports.length).toBe(1);
    expect(reports[0]!.node_id).toBe("node-c");
    expect(reports[0]!.rooms.map((r) => r.departed.length)).toEqual([1, 1, 1, 1, 1]);
    for (let i = 0; i < 5; i++) expect(await a!.members.list(`room${i}`)).toEqual([]);
  });

  test("a node never reaps itself", async () => {
    const [a] = await h.nodes(1);
    await beat(a!);
    await a!.members.add(member("node-a", "self", "a1", "me"));
    await a!.claims.claim("self", "me", holder(null, "a1"));
    h.clock.advance(TTL * 3);
    expect(await a!.nodes.reap(1000)).toEqual([]);
    expect((await a!.members.list("self")).length).toBe(1);
    expect(await holdOf(a!, "self", "me")).toEqual(holder(null, "a1"));
  });

  test("a reaped node that comes back and dies again is reaped again", async () => {
    const [a, b] = await h.nodes(2);
    await beat(b!);
    await b!.members.add(member("node-b", "r", "conn-1", "c1"));
    h.clock.advance(TTL + 1);
    await beat(a!);
    expect((await a!.nodes.reap(1000)).map((d) => d.node_id)).toEqual(["node-b"]);
    // back, and its member with it (as a node restores what the store forgot)
    expect(await beat(b!)).toEqual({ forgotten: true });
    await b!.members.add(member("node-b", "r", "conn-2", "c2"));
    h.clock.advance(TTL + 1);
    await beat(a!);
    expect((await a!.nodes.reap(1000)).map(tidy)).toEqual([{ node_id: "node-b", rooms: [{ room: "r", members: ["conn-2"], departed: [] }] }]);
  });

  test("closing leaves the node list at once when the node holds no members, else it waits to be reaped", async () => {
    const [a, b, c] = await h.nodes(3);
    for (const x of [a!, b!, c!]) await beat(x);
    await c!.members.add(member("node-c", "stay", "c1", "cc"));
    await b!.close();
    await c!.close();
    expect((await a!.nodes.nodes()).map((n) => n.node_id).sort()).toEqual(["node-a", "node-c"]);
    h.clock.advance(TTL + 1);
    await beat(a!);
    const dead = await a!.nodes.reap(1000);
    expect(dead.map((d) => [d.node_id, d.rooms.map((r) => r.room)])).toEqual([["node-c", ["stay"]]]);
  });

  test("heartbeat reports forgotten after the store lost everything; the node is listed again", async () => {
    const [a, b] = await h.nodes(2);
    expect(await beat(a!, 2, ["lost"])).toEqual({ forgotten: false }); // the first heartbeat is no loss
    await h.wipe();
    expect(await b!.nodes.nodes()).toEqual([]);
    expect(await beat(a!, 2, ["lost"])).toEqual({ forgotten: true });
    expect(await beat(b!)).toEqual({ forgotten: false });
    expect((await b!.nodes.nodes()).map((n) => n.node_id).sort()).toEqual(["node-a", "node-b"]);
  });
};
