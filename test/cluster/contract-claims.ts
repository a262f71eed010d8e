/** The contract of {@link ClientClaims}: who holds a client id in a room, cluster-wide (see harness.ts). */
import { expect, test } from "bun:test";
import type { ClusterBackend, DueHold, Holder } from "../../src/cluster/types.ts";
import { holder, member } from "./fixtures.ts";
import { chat, type Suite } from "./harness.ts";

/** The hold of `clientId` in `room`, as the world store loads it. */
export async function holdOf(x: ClusterBackend, room: string, clientId: string): Promise<Holder | undefined> {
  return (await x.world.load(room)).holders.get(clientId);
}

/** A session hold: `session` held through connection `conn` on `node`. */
const session = (user: string | null, session: string, conn: string, node = "node-a"): Holder => holder(user, session, node, conn);

export const claimsContract: Suite = (h) => {
  test("a free client id is granted; every node sees the hold and the session", async () => {
    const [a, b] = await h.nodes(2);
    expect(await a!.claims.claim("r", "c1", holder("alice", "conn-1"))).toEqual({ ok: true });
    expect(await holdOf(b!, "r", "c1")).toEqual({ user: "alice", token: "conn-1", node: "node-a", conn: "conn-1" });
    expect(await b!.claims.claim("r", "c2", session(null, "s-2", "conn-2", "node-b"), "s-2")).toEqual({ ok: true });
    expect(await a!.claims.sessionClient("r", "s-2")).toBe("c2");
    expect(await a!.claims.sessionClient("r", "conn-1")).toBeUndefined(); // a plain hold is no session
    expect(await holdOf(a!, "r", "c2")).toEqual({ user: null, token: "s-2", node: "node-b", conn: "conn-2" });
  });

  test("the same token resumes: a detached hold is re-attached (no previous); it needs the same user", async () => {
    const [a, b] = await h.nodes(2);
    const until = h.clock.now() + 1000;
    await a!.claims.claim("r", "c1", session("alice", "s1", "conn-1"), "s1");
    await a!.claims.detach("r", "c1", "s1", "conn-1", until);
    expect(await holdOf(b!, "r", "c1")).toEqual({ user: "alice", token: "s1", node: "node-a", detachedUntil: until });
    // the token is the secret, but another user presenting it is refused
    const stolen = await b!.claims.claim("r", "c1", session("mallory", "s1", "conn-x", "node-b"));
    expect(stolen).toEqual({ ok: false, holder: { user: "alice", token: "s1", node: "node-a", detachedUntil: until } });
    expect(await b!.claims.claim("r", "c1", session(null, "s1", "conn-y", "node-b"))).toMatchObject({ ok: false });
    expect(await b!.claims.claim("r", "c1", session("alice", "s1", "conn-2", "node-b"))).toEqual({ ok: true });
    expect(await holdOf(a!, "r", "c1")).toEqual({ user: "alice", token: "s1", node: "node-b", conn: "conn-2" });
    expect(await a!.claims.sessionClient("r", "s1")).toBe("c1");
    // anonymous sessions resume too (same anonymous user), but a named user cannot take them
    await a!.claims.claim("r", "anon", session(null, "s9", "conn-9"), "s9");
    await a!.claims.detach("r", "anon", "s9", "conn-9", until);
    expect(await b!.claims.claim("r", "anon", session("alice", "s9", "conn-10", "node-b"))).toMatchObject({ ok: false });
    expect(await b!.claims.claim("r", "anon", session(null, "s9", "conn-10", "node-b"))).toEqual({ ok: true });
  });

  test("the same token while still attached: granted, the old connection comes back as previous", async () => {
    const [a, b] = await h.nodes(2);
    await a!.claims.claim("r", "c1", session("alice", "s1", "conn-1"), "s1");
    const c = await b!.claims.claim("r", "c1", session("alice", "s1", "conn-2", "node-b"));
    expect(c).toEqual({ ok: true, previous: { user: "alice", token: "s1", node: "node-a", conn: "conn-1" } });
    expect(await holdOf(a!, "r", "c1")).toEqual({ user: "alice", token: "s1", node: "node-b", conn: "conn-2" });
    expect(await a!.claims.sessionClient("r", "s1")).toBe("c1");
  });

  test("the same user with another token replaces the hold: previous returned, its session index dropped", async () => {
    const [a, b] = await h.nodes(2);
    await a!.claims.claim("r", "c1", session("alice", "s1", "conn-1"), "s1");
    const c = await b!.claims.claim("r", "c1", session("alice", "s2", "conn-2", "node-b"), "s2");
    expect(c).toEqual({ ok: true, previous: { user: "alice", token: "s1", node: "node-a", conn: "conn-1" } });
    expect(await a!.claims.sessionClient("r", "s1")).toBeUndefined();
    expect(await a!.claims.sessionClient("r", "s2")).toBe("c1");
    // a detached hold of the same user is replaced too (previous without a connection)
    const until = h.clock.now() + 1000;
    await b!.claims.detach("r", "c1", "s2", "conn-2", until);
    const d = await a!.claims.claim("r", "c1", holder("alice", "conn-3"));
    expect(d).toEqual({ ok: true, previous: { user: "alice", token: "s2", node: "node-b", detachedUntil: until } });
    expect(await a!.claims.sessionClient("r", "s2")).toBeUndefined();
    expect(await holdOf(b!, "r", "c1")).toEqual(holder("alice", "conn-3"));
  });

  test("another user is refused and nothing changes", async () => {
    const [a, b] = await h.nodes(2);
    await a!.claims.claim("r", "c1", session("alice", "s1", "conn-1"), "s1");
    const c = await b!.claims.claim("r", "c1", session("bob", "s2", "conn-2", "node-b"), "s2");
    expect(c).toEqual({ ok: false, holder: { user: "alice", token: "s1", node: "node-a", conn: "conn-1" } });
    expect(await holdOf(a!, "r", "c1")).toEqual(session("alice", "s1", "conn-1"));
    expect(await a!.claims.sessionClient("r", "s2")).toBeUndefined(); // the refused session was not indexed
    expect(await a!.claims.sessionClient("r", "s1")).toBe("c1");
    expect(await b!.claims.claim("r", "c1", holder(null, "conn-3", "node-b"))).toMatchObject({ ok: false }); // anonymous
  });

  test("anonymous never matches another connection; a named user never takes an anonymous hold", async () => {
    const [a, b] = await h.nodes(2);
    await a!.claims.claim("r", "c1", holder(null, "conn-1"));
    const c = await b!.claims.claim("r", "c1", holder(null, "conn-2", "node-b"));
    expect(c).toEqual({ ok: false, holder: holder(null, "conn-1") });
    expect(await b!.claims.claim("r", "c1", holder("alice", "conn-3", "node-b"))).toMatchObject({ ok: false });
    expect(await holdOf(b!, "r", "c1")).toEqual(holder(null, "conn-1"));
  });

  test("the same connection may move its hold to a new session; another user's or anonymous connection may not", async () => {
    const [a, b] = await h.nodes(2);
    for (const user of [null, "alice"]) {
      const room = `move-${user}`;
      await a!.claims.claim(room, "c1", holder(user, "conn-1"));
      expect(await b!.claims.claim(room, "c1", session(user === null ? null : "bob", "s-other", "conn-2", "node-b"), "s-other")).toMatchObject({ ok: false });
      const c = await a!.claims.claim(room, "c1", session(user, "s1", "conn-1"), "s1");
      expect(c).toEqual({ ok: true, previous: holder(user, "conn-1") });
      expect(await b!.claims.sessionClient(room, "s1")).toBe("c1");
      expect(await b!.claims.sessionClient(room, "s-other")).toBeUndefined();
      expect(await holdOf(b!, room, "c1")).toEqual(session(user, "s1", "conn-1"));
    }
  });

  test("sessionClient answers only while the session holds: detached yes; replaced, released, unknown or another room no", async () => {
    const [a, b] = await h.nodes(2);
    await a!.claims.claim("r", "c1", session("alice", "s1", "conn-1"), "s1");
    await a!.claims.detach("r", "c1", "s1", "conn-1", h.clock.now() + 1000);
    expect(await b!.claims.sessionClient("r", "s1")).toBe("c1");
    expect(await b!.claims.sessionClient("elsewhere", "s1")).toBeUndefined();
    expect(await b!.claims.sessionClient("r", "never")).toBeUndefined();
    h.clock.advance(1000); // the window closes
    const released = await b!.log.append("r", [], { guard: { clientId: "c1", token: "s1", detached: true }, release: true });
    expect(released).toEqual({ entries: [], orphans: [] });
    expect(await a!.claims.sessionClient("r", "s1")).toBeUndefined();
    expect(await holdOf(a!, "r", "c1")).toBeUndefined();
    // the id is free again
    expect(await b!.claims.claim("r", "c1", holder("bob", "conn-2", "node-b"))).toEqual({ ok: true });
  });

  test("detach happens only through the holding token AND connection", async () => {
    const [a, b] = await h.nodes(2);
    const until = h.clock.now() + 500;
    await a!.claims.claim("r", "c1", session("alice", "s1", "conn-1"), "s1");
    await b!.claims.detach("r", "c1", "s-wrong", "conn-1", until);
    await b!.claims.detach("r", "c1", "s1", "conn-wrong", until);
    await b!.claims.detach("r", "nobody", "s1", "conn-1", until);
    expect(await holdOf(a!, "r", "c1")).toEqual(session("alice", "s1", "conn-1"));
    expect(await a!.claims.due(until + 1, 10)).toEqual([]);
    await b!.claims.detach("r", "c1", "s1", "conn-1", until);
    expect(await holdOf(a!, "r", "c1")).toEqual({ user: "alice", token: "s1", node: "node-a", detachedUntil: until });
    // detached: no connection holds it any more, so a second detach (a stale connection) changes nothing
    await b!.claims.detach("r", "c1", "s1", "conn-1", until + 1000);
    expect((await holdOf(a!, "r", "c1"))!.detachedUntil).toBe(until);
    expect(await a!.claims.due(until, 10)).toEqual([{ room: "r", clientId: "c1", token: "s1" }]); // not postponed either
  });

  test("due lists the holds whose window closed, oldest first, at most limit; done forgets one", async () => {
    const [a, b] = await h.nodes(2);
    const t = h.clock.now();
    const holds: [string, string, string, number][] = [
      ["r1", "c1", "s1", t + 300],
      ["r2", "c2", "s2", t + 100],
      ["r1", "c3", "s3", t + 200],
    ];
    for (const [room, clientId, token, until] of holds) {
      await a!.claims.claim(room, clientId, session(null, token, `conn-${token}`), token);
      await a!.claims.detach(room, clientId, token, `conn-${token}`, until);
    }
    const due = (room: string, clientId: string, token: string): DueHold => ({ room, clientId, token });
    expect(await b!.claims.due(t + 50, 10)).toEqual([]);
    expect(await b!.claims.due(t + 250, 10)).toEqual([due("r2", "c2", "s2"), due("r1", "c3", "s3")]);
    expect(await b!.claims.due(t + 1000, 2)).toEqual([due("r2", "c2", "s2"), due("r1", "c3", "s3")]);
    expect(await b!.claims.due(t + 1000, 10)).toEqual([due("r2", "c2", "s2"), due("r1", "c3", "s3"), due("r1", "c1", "s1")]);
    await a!.claims.done(due("r1", "c1", "s1")); // its window is still open by the clock: it stays
    h.clock.advance(1000);
    await a!.claims.done(due("r2", "c2", "s2"));
    await a!.claims.done(due("r2", "c2", "s2")); // idempotent
    expect(await b!.claims.due(t + 1000, 10)).toEqual([due("r1", "c3", "s3"), due("r1", "c1", "s1")]);
    // done forgets the entry, not the hold: it stays detached until released or resumed
    expect((await holdOf(a!, "r2", "c2"))!.detachedUntil).toBe(t + 100);
  });

  test("a hold that was resumed, replaced, released or never detached is not due", async () => {
    const [a, b] = await h.nodes(2);
    const t = h.clock.now();
    const ids = ["resumed", "replaced", "released", "refused", "again"];
    for (const id of ids) await a!.claims.claim("r", id, session("u", `s-${id}`, `conn-${id}`), `s-${id}`);
    for (const id of ids) await a!.claims.detach("r", id, `s-${id}`, id === "refused" ? "conn-other" : `conn-${id}`, t + 100);
    await b!.claims.claim("r", "resumed", session("u", "s-resumed", "conn-new", "node-b"));
    await b!.claims.claim("r", "replaced", session("u", "s-new", "conn-new2", "node-b"), "s-new");
    h.clock.advance(100); // the windows close
    await b!.log.append("r", [], { guard: { clientId: "released", token: "s-released", detached: true }, release: true });
    // resumed, then detached again with a later window: due once that one closes
    await b!.claims.claim("r", "again", session("u", "s-again", "conn-again2", "node-b"));
    await b!.claims.detach("r", "again", "s-again", "conn-again2", t + 500);
    expect(await a!.claims.due(t + 200, 10)).toEqual([]);
    expect(await a!.claims.due(t + 600, 10)).toEqual([{ room: "r", clientId: "again", token: "s-again" }]);
  });

  test("claims are per room", async () => {
    const [a, b] = await h.nodes(2);
    expect(await a!.claims.claim("one", "c1", holder("alice", "conn-1"))).toEqual({ ok: true });
    expect(await b!.claims.claim("two", "c1", holder("bob", "conn-2", "node-b"))).toEqual({ ok: true });
    expect(await holdOf(a!, "one", "c1")).toEqual(holder("alice", "conn-1"));
    expect(await holdOf(a!, "two", "c1")).toEqual(holder("bob", "conn-2", "node-b"));
  });

  test("ids that look like keys, rooms or nodes do not collide with them", async () => {
    const [a, b] = await h.nodes(2);
    await a!.nodes.heartbeat({ node_id: "node-a", connections: 1, last_heartbeat: 0 }, ["lobby"]);
    await a!.members.add(member("node-a", "lobby", "conn-1", "alice"));
    await a!.log.append("lobby", [chat("x")]);
    const odd = ["lobby", "node-a", "lobby}:members", "{lobby}", "@nodes", "{@due}:holds", "a{}{b}"];
    for (const id of odd) {
      expect(await a!.claims.claim("lobby", id, session(null, `s${id}`, `c${id}`), `s${id}`)).toEqual({ ok: true });
      expect(await b!.claims.sessionClient("lobby", `s${id}`)).toBe(id);
    }
    const snap = await b!.world.load("lobby");
    expect([...snap.holders.keys()].sort()).toEqual([...odd].sort());
    expect(snap.seq).toBe(1);
    expect((await b!.members.list("lobby")).map((m) => m.connection_id)).toEqual(["conn-1"]);
    expect((await b!.nodes.nodes()).map((n) => n.node_id)).toEqual(["node-a"]);
  });
};
