/** The cluster contract, part 2: members, world state, node liveness and sessions, on every backend (see harness.ts). */
import { expect, test } from "bun:test";
import { ClusterUnavailableError } from "../../src/cluster/shared.ts";
import type { ClusterBackend, MemberInfo, SessionRecord } from "../../src/cluster/types.ts";
import { member, sleep } from "./fixtures.ts";
import { chat, contractSuites, rejections, session, TTL } from "./harness.ts";

contractSuites("cluster contract", (h) => {
    test("members are listed across nodes", async () => {
      const [a, b] = await h.nodes(2);
      await a!.presence.addMember(member("node-a", "lobby", "conn-a1", "alice"));
      await b!.presence.addMember(member("node-b", "lobby", "conn-b1", "bob"));
      await b!.presence.addMember(member("node-b", "elsewhere", "conn-b2", "bob"));
      const sort = (ms: MemberInfo[]) => ms.sort((x, y) => x.connection_id.localeCompare(y.connection_id));
      const fromA = sort(await a!.presence.members("lobby"));
      expect(fromA).toEqual([member("node-a", "lobby", "conn-a1", "alice"), member("node-b", "lobby", "conn-b1", "bob")]);
      expect(sort(await b!.presence.members("lobby"))).toEqual(fromA);
      await b!.presence.removeMember("lobby", "conn-b1");
      expect((await a!.presence.members("lobby")).map((m) => m.client_id)).toEqual(["alice"]);
      expect(await a!.presence.members("nobody-here")).toEqual([]);
    });

    test("world snapshots: players and entities from every node", async () => {
      const [a, b] = await h.nodes(2);
      const bytes = (s: string) => new TextEncoder().encode(s);
      await a!.presence.setPlayer("w", "alice", bytes("pa"));
      await b!.presence.setPlayer("w", "bob", bytes("pb"));
      await b!.presence.setPlayer("w", "bob", bytes("pb2")); // latest wins
      await a!.presence.setEntity("w", "e1", "alice", bytes("e1"));
      await b!.presence.setEntity("w", "e2", "bob", bytes("e2"));
      const txt = (xs: Uint8Array[]) => xs.map((x) => new TextDecoder().decode(x)).sort();
      let w = await b!.presence.world("w");
      expect(txt(w.players)).toEqual(["pa", "pb2"]);
      expect(txt(w.entities)).toEqual(["e1", "e2"]);
      await a!.presence.removeEntity("w", "e2");
      await b!.presence.removePlayer("w", "alice");
      w = await a!.presence.world("w");
      expect(txt(w.players)).toEqual(["pb2"]);
      expect(txt(w.entities)).toEqual(["e1"]);
      expect(await a!.presence.world("empty")).toEqual({ players: [], entities: [] });
    });

    test("heartbeats: live nodes listed, connections summed, silent nodes drop out", async () => {
      const [a, b] = await h.nodes(2);
      expect(await a!.presence.heartbeat({ node_id: "node-a", connections: 3, last_heartbeat: 0, runtime: "bun" })).toEqual({ forgotten: false });
      await b!.presence.heartbeat({ node_id: "node-b", connections: 4, last_heartbeat: 0, runtime: "deno" });
      const nodes = (await b!.presence.nodes()).sort((x, y) => x.node_id.localeCompare(y.node_id));
      expect(nodes.map((n) => [n.node_id, n.connections, n.runtime])).toEqual([
        ["node-a", 3, "bun"],
        ["node-b", 4, "deno"],
      ]);
      expect(nodes[0]!.last_heartbeat).toBe(h.clock.now()); // stamped by the store
      expect(await a!.presence.totalConnections()).toBe(7);
      h.clock.advance(TTL / 2);
      await a!.presence.heartbeat({ node_id: "node-a", connections: 5, last_heartbeat: 0 });
      h.clock.advance(TTL / 2 + 1);
      expect((await a!.presence.nodes()).map((n) => n.node_id)).toEqual(["node-a"]);
      expect(await b!.presence.totalConnections()).toBe(5);
    });

    test("reaping a node whose heartbeats stopped removes its members, lone players and their entities", async () => {
      const [a, b] = await h.nodes(2);
      const hb = (x: ClusterBackend, id: string) => x.presence.heartbeat({ node_id: id, connections: 1, last_heartbeat: 0 });
      await hb(a!, "node-a");
      await hb(b!, "node-b");
      // alice: only on B (dies with it). carol: on A and B (stays). bob: on B in two rooms.
      await a!.presence.addMember(member("node-a", "r1", "a-carol", "carol"));
      await b!.presence.addMember(member("node-b", "r1", "b-carol", "carol"));
      await b!.presence.addMember(member("node-b", "r1", "b-alice", "alice"));
      await b!.presence.addMember(member("node-b", "r2", "b-bob", "bob"));
      const p = new Uint8Array([1]);
      for (const c of ["carol", "alice"]) await b!.presence.setPlayer("r1", c, p);
      await b!.presence.setPlayer("r2", "bob", p);
      await b!.presence.setEntity("r1", "alice-hat", "alice", p);
      await b!.presence.setEntity("r1", "carol-box", "carol", p);
      await a!.presence.setEntity("r2", "bob-ball", "bob", p);
      await a!.presence.setEntity("r2", "ghost-thing", "ghost", p);

      expect(await a!.presence.reapDeadNodes()).toEqual([]); // nobody dead yet
      h.clock.advance(TTL + 1);
      await hb(a!, "node-a"); // A lives on, B is silent
      const dead = await a!.presence.reapDeadNodes();
      expect(dead.length).toBe(1);
      expect(dead[0]!.node_id).toBe("node-b");
      const rooms = dead[0]!.rooms.sort((x, y) => x.room.localeCompare(y.room));
      expect(rooms.map((r) => r.room)).toEqual(["r1", "r2"]);
      expect(rooms[0]!.members.map((m) => m.connection_id).sort()).toEqual(["b-alice", "b-carol"]);
      expect(rooms[0]!.clients).toEqual(["alice"]);
      expect(rooms[0]!.entities).toEqual(["alice-hat"]);
      expect(rooms[1]!.members.map((m) => m.connection_id)).toEqual(["b-bob"]);
      expect(rooms[1]!.clients).toEqual(["bob"]);
      expect(rooms[1]!.entities).toEqual(["bob-ball"]);

      expect((await a!.presence.members("r1")).map((m) => m.connection_id)).toEqual(["a-carol"]);
      expect(await a!.presence.members("r2")).toEqual([]);
      const w1 = await a!.presence.world("r1");
      expect(w1.players.length).toBe(1); // carol's
      expect(w1.entities.length).toBe(1); // carol-box
      expect((await a!.presence.world("r2")).entities.length).toBe(1); // ghost-thing (owner not on B)
      expect((await a!.presence.nodes()).map((n) => n.node_id)).toEqual(["node-a"]);
      expect(await a!.presence.reapDeadNodes()).toEqual([]); // reported once

      // B comes back: its heartbeat says it was forgotten
      expect(await hb(b!, "node-b")).toEqual({ forgotten: true });
      expect(await hb(b!, "node-b")).toEqual({ forgotten: false });
    });

    test("exactly one survivor reaps a dead node when two race", async () => {
      const [a, b, c] = await h.nodes(3);
      const hb = (x: ClusterBackend, id: string) => x.presence.heartbeat({ node_id: id, connections: 0, last_heartbeat: 0 });
      await hb(c!, "node-c");
      for (let i = 0; i < 5; i++) await c!.presence.addMember(member("node-c", `room${i}`, `c${i}`, `client${i}`));
      h.clock.advance(TTL + 1);
      await hb(a!, "node-a");
      await hb(b!, "node-b");
      const results = await Promise.all([a!.presence.reapDeadNodes(), b!.presence.reapDeadNodes(), a!.presence.reapDeadNodes(), b!.presence.reapDeadNodes()]);
      const reports = results.flat();
      expect(reports.length).toBe(1);
      expect(reports[0]!.node_id).toBe("node-c");
      expect(reports[0]!.rooms.length).toBe(5);
      for (let i = 0; i < 5; i++) expect(await a!.presence.members(`room${i}`)).toEqual([]);
    });

    test("closing leaves the node list at once when the node holds no members, else it waits to be reaped", async () => {
      const [a, b, c] = await h.nodes(3);
      for (const [x, id] of [[a!, "node-a"], [b!, "node-b"], [c!, "node-c"]] as const) await x.presence.heartbeat({ node_id: id, connections: 0, last_heartbeat: 0 });
      await c!.presence.addMember(member("node-c", "stay", "c1", "cc"));
      await b!.close();
      await c!.close();
      expect((await a!.presence.nodes()).map((n) => n.node_id).sort()).toEqual(["node-a", "node-c"]);
      h.clock.advance(TTL + 1);
      await a!.presence.heartbeat({ node_id: "node-a", connections: 0, last_heartbeat: 0 });
      const dead = await a!.presence.reapDeadNodes();
      expect(dead.map((d) => [d.node_id, d.rooms.map((r) => r.room)])).toEqual([["node-c", ["stay"]]]);
    });

    test("a node never reaps itself", async () => {
      const [a] = await h.nodes(1);
      await a!.presence.heartbeat({ node_id: "node-a", connections: 0, last_heartbeat: 0 });
      await a!.presence.addMember(member("node-a", "self", "a1", "me"));
      h.clock.advance(TTL * 3);
      expect(await a!.presence.reapDeadNodes()).toEqual([]);
      expect((await a!.presence.members("self")).length).toBe(1);
    });

    test("sessions: one node puts, another reads, replaces and deletes", async () => {
      const [a, b] = await h.nodes(2);
      const s = session("s-1", "node-a", "conn-a1");
      expect(await b!.presence.getSession("s-1")).toBeUndefined();
      await a!.presence.putSession(s, 60_000);
      expect(await b!.presence.getSession("s-1")).toEqual(s);
      // detached (no connection_id), then resumed on B: the latest put wins
      const detached = session("s-1", "node-a");
      await a!.presence.putSession(detached, 60_000);
      const got = await b!.presence.getSession("s-1");
      expect(got).toEqual(detached);
      expect("connection_id" in got!).toBe(false);
      const resumed = { ...session("s-1", "node-b", "conn-b7"), user_id: "user-42" };
      await b!.presence.putSession(resumed, 60_000);
      expect(await a!.presence.getSession("s-1")).toEqual(resumed);
      // the store keeps a copy, and only the record's fields
      resumed.client_id = "mutated";
      await b!.presence.putSession({ ...session("s-2", "node-b"), extra: 1 } as SessionRecord, 60_000);
      expect((await a!.presence.getSession("s-1"))!.client_id).toBe("client-s-1");
      expect(await a!.presence.getSession("s-2")).toEqual(session("s-2", "node-b"));

      await a!.presence.deleteSession("s-1");
      await a!.presence.deleteSession("s-1"); // idempotent
      expect(await b!.presence.getSession("s-1")).toBeUndefined();
      expect(await b!.presence.getSession("s-2")).toEqual(session("s-2", "node-b"));
      await b!.presence.deleteSession("never-there");
    });

    test("sessions do not collide with rooms or nodes of the same name", async () => {
      const [a] = await h.nodes(1);
      await a!.presence.heartbeat({ node_id: "node-a", connections: 1, last_heartbeat: 0 });
      await a!.presence.addMember(member("node-a", "lobby", "conn-1", "alice"));
      await a!.log.append("lobby", chat("x"));
      for (const id of ["lobby", "node-a", "lobby}:members", "{lobby}", "@nodes"]) {
        expect(await a!.presence.getSession(id)).toBeUndefined();
        await a!.presence.putSession(session(id, "node-a"), 60_000);
        expect(await a!.presence.getSession(id)).toEqual(session(id, "node-a"));
      }
      expect((await a!.presence.members("lobby")).map((m) => m.connection_id)).toEqual(["conn-1"]);
      expect((await a!.log.head("lobby")).seq).toBe(1);
      expect((await a!.presence.nodes()).map((n) => n.node_id)).toEqual(["node-a"]);
      for (const id of ["lobby", "node-a", "lobby}:members", "{lobby}", "@nodes"]) await a!.presence.deleteSession(id);
      expect((await a!.presence.members("lobby")).length).toBe(1);
    });

    test("sessions expire after their TTL; a put starts the TTL again", async () => {
      const [a, b] = await h.nodes(2);
      await a!.presence.putSession(session("short", "node-a", "c1"), 400);
      await a!.presence.putSession(session("renewed", "node-a", "c2"), 400);
      await h.elapse(250);
      expect(await b!.presence.getSession("short")).toEqual(session("short", "node-a", "c1"));
      await a!.presence.putSession(session("renewed", "node-a"), 400);
      await h.elapse(250); // 500 ms after the first puts
      expect(await b!.presence.getSession("short")).toBeUndefined();
      expect(await b!.presence.getSession("renewed")).toEqual(session("renewed", "node-a"));
      await h.elapse(250);
      expect(await b!.presence.getSession("renewed")).toBeUndefined();
    });

    test("session arguments: bad ids are never found, a bad id or TTL on put is refused", async () => {
      const [a] = await h.nodes(1);
      expect(await a!.presence.getSession("")).toBeUndefined();
      expect(await a!.presence.getSession("x".repeat(257))).toBeUndefined();
      await a!.presence.deleteSession("");
      await expect(a!.presence.putSession(session("", "node-a"), 1000)).rejects.toBeInstanceOf(RangeError);
      await expect(a!.presence.putSession(session("x".repeat(257), "node-a"), 1000)).rejects.toBeInstanceOf(RangeError);
      for (const ttl of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(a!.presence.putSession(session("ok", "node-a"), ttl)).rejects.toBeInstanceOf(RangeError);
      }
      expect(await a!.presence.getSession("ok")).toBeUndefined();
      await a!.presence.putSession(session("x".repeat(256), "node-a"), 0.5); // rounded up to 1 ms, accepted
    });


    // last: it takes the backend away
    test("while the backend is down, session calls reject with ClusterUnavailableError (no unhandled rejection); back up, they work", async () => {
      const nodes = await h.nodes(2, { reconnectMaxDelayMs: 100, commandTimeoutMs: 1000 });
      const [a, b] = nodes;
      await a!.presence.putSession(session("down-1", "node-a", "c"), 60_000);
      const restore = await h.outage(nodes);
      try {
        await expect(a!.presence.putSession(session("down-2", "node-a"), 60_000)).rejects.toBeInstanceOf(ClusterUnavailableError);
        await expect(b!.presence.getSession("down-1")).rejects.toBeInstanceOf(ClusterUnavailableError);
        await expect(b!.presence.deleteSession("down-1")).rejects.toBeInstanceOf(ClusterUnavailableError);
      } finally {
        await restore();
      }
      await b!.presence.putSession(session("down-3", "node-b"), 60_000);
      expect(await a!.presence.getSession("down-3")).toEqual(session("down-3", "node-b"));
      await sleep(20);
      expect(rejections.list).toEqual([]);
    }, 20_000);
});
