/**
 * [guarantees] Finding 4: an expired stale copy of a session must not depart the client's
 * current connection. Today an instance keeps a detached copy after the client resumed
 * elsewhere; when the client then closes deliberately and rejoins with the same id, the old
 * copy's window ends, no session record is found, and the expiry departs the *current*
 * connection (bypassing the ownership check): a connected client gets a PRESENCE_LEAVE, its
 * entities despawn, and fresh joiners on every instance lack it. Also the plain-client form:
 * back on another instance before the old one noticed the drop, the old one's close must not
 * announce a leave for the client's new connection.
 */
import { expect, test } from "bun:test";
import { play, playersEverywhere } from "./in-process.ts";

test("[finding 4] resumed elsewhere, closed deliberately, rejoined: the stale copy's expiry leaves the connected client alone", async () => {
  const sim = await play(4000, [
    { k: "conn", c: 1, n: 1 }, { k: "tick", ms: 100 }, { k: "conn", c: 0, n: 0 }, { k: "tick", ms: 300 },
    { k: "drop", c: 0, late: 0 }, { k: "conn", c: 0, n: 1 }, { k: "tick", ms: 300 }, // A keeps a detached copy
    { k: "leave", c: 0 }, { k: "conn", c: 0, n: 2 }, { k: "entity", c: 0, op: 0, p: 0 }, { k: "tick", ms: 300 },
  ]);
  const [c0, c1] = sim.clients;
  const leavesBefore = c1!.leaves().length; // the deliberate close: one leave
  await sim.tick(4500); // A's stale copy expires
  expect(c1!.leaves().length).toBe(leavesBefore);
  expect(c0!.state).toBe("connected");
  const probes = await sim.probe();
  for (const p of probes) {
    expect(p.players.filter((id) => !id.startsWith("probe-"))).toEqual(["c0", "c1"]);
    expect([...p.entities.keys()]).toEqual(["e-c0-1"]);
  }
});

test("[finding 4] a plain client back on another instance before the old one noticed its drop: no leave for the new connection", async () => {
  const sim = await play(1500, [{ k: "conn", c: 1, n: 2 }, { k: "conn", c: 4, n: 1 }, { k: "tick", ms: 300 }, { k: "drop", c: 4, late: 500 }, { k: "conn", c: 4, n: 0 }]);
  const c1 = sim.clients[1]!;
  await sim.tick(2000);
  expect(c1.leaves()).toEqual([]);
  for (const players of Object.values(await playersEverywhere(sim))) expect(players).toEqual(["c1", "c4"]);
});
