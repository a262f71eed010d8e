/**
 * [guarantees] Finding 10: no player (or entity) may be missing from another instance's world
 * for good. Two instances on one store; clients join A while the room's first client joins B:
 * today B's later hellos lack A's players permanently though the stats list them (the joins
 * reach B while its first join moves the room's cursor past them, and the store has no players
 * yet: their poses are written at most 5 times a second). Also: an instance started later must
 * have every entity the others have.
 */
import { expect, test } from "bun:test";
import type { Cmd } from "../model/commands.ts";
import { play } from "./in-process.ts";

async function converge(cmds: Cmd[], async = false) {
  const sim = await play(4000, cmds, async);
  await sim.tick(2000);
  const probes = await sim.probe();
  return probes.map((p) => ({ node: p.node, players: p.players.filter((id) => !id.startsWith("probe-")), stats: [...new Set(p.stats.filter((id) => !id.startsWith("probe-")))], entities: [...p.entities.keys()].sort() }));
}

test("[finding 10] clients join A while the room's first client joins B: every instance's hello lists all of them, as the stats do", async () => {
  const got = await converge([{ k: "conn", c: 0, n: 0, q: true }, { k: "conn", c: 1, n: 0, q: true }, { k: "conn", c: 4, n: 0, q: true }, { k: "conn", c: 2, n: 1 }]);
  for (const p of got) {
    expect(p.players).toEqual(["c0", "c1", "c2", "c4"]);
    expect(p.stats).toEqual(p.players);
  }
});

test("[finding 10] joins staggered one per instance first, then the rest: every instance lists all six", async () => {
  const cmds: Cmd[] = [0, 1, 2, 3, 4, 5].map((c) => ({ k: "conn", c, n: c % 3 }));
  for (const p of await converge(cmds)) expect(p.players).toEqual(["c0", "c1", "c2", "c3", "c4", "c5"]);
});

test("[finding 10] an entity spawned as a restarted instance gets its first client (the store answering one round trip at a time): that instance has it too", async () => {
  const got = await converge([
    { k: "conn", c: 0, n: 0 }, { k: "conn", c: 1, n: 1 }, { k: "tick", ms: 300 }, { k: "kill", n: 2 }, { k: "tick", ms: 300 },
    // The restarted instance opens the room (subscribe, log head, world) while the spawn happens;
    // the spawn's bus frame reaches it only after its first client joined.
    { k: "restart", n: 2 }, { k: "hold", n: 2, ms: 300 }, { k: "conn", c: 2, n: 2, q: true }, { k: "step", q: true }, { k: "step", q: true },
    { k: "entity", c: 0, op: 0, p: 0, q: true }, { k: "step", q: true }, { k: "step", q: true }, { k: "step", q: true },
  ], true);
  for (const p of got) expect(p.entities).toEqual(["e-c0-1"]);
});
