/**
 * The contract of every cluster interface while the backend is away: each call throws or
 * rejects with {@link ClusterUnavailableError} (no unhandled rejection), publishes are dropped
 * and counted, the status says so — and once it is back, everything works again on the same
 * objects (see harness.ts).
 */
import { expect, test } from "bun:test";
import { ClusterUnavailableError } from "../../src/cluster/shared.ts";
import type { BackendStatus, ClusterBackend } from "../../src/cluster/types.ts";
import { bytes, failure, holder, member, readU32, sleep, u32, waitFor } from "./fixtures.ts";
import { collect, rejections, type Suite } from "./harness.ts";

/** Every call of every interface but the bus, each run once. */
function everyCall(x: ClusterBackend): Record<string, () => unknown> {
  const node = { node_id: x.nodeId, connections: 0, last_heartbeat: 0 };
  return {
    "log.append": () => x.log.append("down", [u32(1)]),
    "log.append (guarded)": () => x.log.append("down", [u32(1)], { guard: { clientId: "c1", token: "t" }, release: true }),
    "log.read": () => x.log.read("down", 1, 0, 10),
    "log.head": () => x.log.head("down"),
    "world.load": () => x.world.load("down"),
    "world.setPose": () => x.world.setPose("down", "player", "c1", bytes("p")),
    "claims.claim": () => x.claims.claim("down", "c9", holder(null, "conn-9")),
    "claims.sessionClient": () => x.claims.sessionClient("down", "s1"),
    "claims.detach": () => x.claims.detach("down", "c1", "s1", "conn-1", 1),
    "claims.due": () => x.claims.due(Date.now() * 2, 10),
    "claims.done": () => x.claims.done({ room: "down", clientId: "c1", token: "s1" }),
    "members.add": () => x.members.add(member(x.nodeId, "down", "conn-x")),
    "members.remove": () => x.members.remove("down", "conn-1"),
    "members.list": () => x.members.list("down"),
    "nodes.heartbeat": () => x.nodes.heartbeat(node, ["down"]),
    "nodes.nodes": () => x.nodes.nodes(),
    "nodes.reap": () => x.nodes.reap(1000),
  };
}

export const outageContract: Suite = (h) => {
  test("while the backend is away every call fails with ClusterUnavailableError and publishes are dropped; back, everything works", async () => {
    const nodes = await h.nodes(2, { reconnectMaxDelayMs: 100, commandTimeoutMs: 1000 });
    const [a, b] = nodes as [ClusterBackend, ClusterBackend];
    const statusA: BackendStatus[] = [];
    a.onStatus((s) => statusA.push(s));
    const got = collect(b);
    await b.bus.subscribe("down");
    await a.claims.claim("down", "c1", holder("u", "s1", "node-a", "conn-1"), "s1");
    await a.members.add(member("node-a", "down", "conn-1", "c1"));
    await a.nodes.heartbeat({ node_id: "node-a", connections: 1, last_heartbeat: 0 }, ["down"]);
    await b.nodes.heartbeat({ node_id: "node-b", connections: 0, last_heartbeat: 0 }, []);

    const restore = await h.outage(nodes);
    try {
      for (const x of nodes) {
        expect(x.status().healthy).toBe(false);
        expect(x.status().reason).toBeString();
      }
      expect(statusA.at(-1)!.healthy).toBe(false);
      for (const [name, call] of Object.entries(everyCall(a))) {
        const e = await failure(call);
        expect([name, e instanceof ClusterUnavailableError, String((e as Error)?.message ?? e)]).toEqual([name, true, expect.any(String)]);
      }
      // publishing never throws: the frame is dropped and counted
      const dropped = a.bus.counters.dropped;
      expect(() => a.bus.publish("down", u32(7))).not.toThrow();
      expect(a.bus.counters.dropped).toBe(dropped + 1);
      // subscribing while away resolves; the room is received once the backend is back
      await b.bus.subscribe("later");
    } finally {
      await restore();
    }
    expect(statusA.at(-1)).toEqual({ healthy: true });

    // back (Redis restarted empty): the same objects work again
    expect(await a.claims.claim("down", "c1", holder("u", "s1", "node-a", "conn-1"), "s1")).toMatchObject({ ok: true });
    const r = await a.log.append("down", [u32(8)], { guard: { clientId: "c1", token: "s1" }, players: [["c1", bytes("p1")]] });
    expect(r!.entries.length).toBe(1);
    expect((await b.world.load("down")).players.length).toBe(1);
    expect(await b.claims.sessionClient("down", "s1")).toBe("c1");
    await a.members.add(member("node-a", "down", "conn-1", "c1"));
    expect((await b.members.list("down")).length).toBe(1);
    const hb = await a.nodes.heartbeat({ node_id: "node-a", connections: 1, last_heartbeat: 0 }, ["down"]);
    expect(hb.forgotten).toBe(h.kind !== "memory"); // Redis came back empty; the memory broker kept its state
    expect((await b.nodes.nodes()).map((n) => n.node_id)).toContain("node-a");
    expect(await b.nodes.reap(1000)).toEqual([]);
    await waitFor(() => got.some((g) => g.room === "down" && readU32(g.frame) === 8), "the append after the outage on the bus");
    await waitFor(async () => {
      a.bus.publish("later", u32(9));
      await sleep(20);
      return got.some((g) => g.room === "later");
    }, "the room subscribed during the outage");
    await sleep(20);
    expect(rejections.list.map(String)).toEqual([]); // the messages, if any, in the failure
  }, 30_000);
};
