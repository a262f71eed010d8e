/**
 * [guarantees] Finding 3: the leave rule — no PRESENCE_LEAVE while a client's resume window is
 * open, on any instance; exactly one leave, cluster-wide, when it closes without a resume —
 * including for the clients of an instance that died. Today the dead-node reaper treats only
 * connected members as live: it announces leaves (and despawns entities) for clients inside
 * their window, and a dropped client whose detached session lived on the dead instance is
 * never announced at all. docs/delivery.md and docs/config.md must state the one rule.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { HEARTBEAT_MS, NODE_TTL_MS } from "../model/runner.ts";
import { play, playersEverywhere } from "./in-process.ts";

const WINDOW = 10_000;

test("[finding 3] the instance of a client dies; it resumes elsewhere after the reaper ran but within its window: no leave, its entity lives on and takes updates", async () => {
  const sim = await play(WINDOW, [{ k: "conn", c: 1, n: 1 }, { k: "tick", ms: 100 }, { k: "conn", c: 0, n: 0 }, { k: "entity", c: 0, op: 0, p: 0 }, { k: "tick", ms: 300 }, { k: "kill", n: 0 }]);
  const [c0, c1] = sim.clients;
  await sim.tick(NODE_TTL_MS + 3 * HEARTBEAT_MS); // A is found dead and reaped meanwhile
  await sim.run({ k: "conn", c: 0, n: 1 }); // resumed on B, still within the window
  await sim.tick(500);
  await sim.run({ k: "entity", c: 0, op: 1, p: 0 });
  await sim.tick(500);
  expect(c1!.leaves()).toEqual([]);
  expect(c0!.errors.map((e) => e.code)).toEqual([]);
  const probes = await sim.probe();
  for (const p of probes) expect([...p.entities.keys()]).toEqual(["e-c0-1"]);
});

test("[finding 3] the instance of a client dies and it never comes back: no leave inside its window, then exactly one, with the despawn", async () => {
  const sim = await play(WINDOW, [{ k: "conn", c: 1, n: 1 }, { k: "conn", c: 2, n: 2 }, { k: "tick", ms: 100 }, { k: "conn", c: 0, n: 0 }, { k: "entity", c: 0, op: 0, p: 0 }, { k: "tick", ms: 300 }, { k: "kill", n: 0 }]);
  const [, c1, c2] = sim.clients;
  await sim.tick(WINDOW - HEARTBEAT_MS - 500); // still inside the window (with a heartbeat of slack)
  expect(c1!.leaves()).toEqual([]);
  await sim.tick(NODE_TTL_MS + 3 * HEARTBEAT_MS + 1500);
  for (const c of [c1!, c2!]) {
    expect(c.leaves()).toEqual(["c0"]);
    expect(c.processed().filter((a) => a.type === 22 /* ENTITY_DESPAWN */).length).toBe(1);
  }
  for (const players of Object.values(await playersEverywhere(sim))) expect(players).toEqual(["c1", "c2"]);
});

test("[finding 3] resumed on a live instance, dropped again inside the window when the dead one is reaped: no leave", async () => {
  const sim = await play(WINDOW, [
    { k: "conn", c: 1, n: 1 }, { k: "tick", ms: 100 }, { k: "conn", c: 0, n: 0 }, { k: "tick", ms: 300 },
    { k: "kill", n: 0 }, { k: "conn", c: 0, n: 1 }, { k: "tick", ms: 300 }, { k: "drop", c: 0, late: 0 },
  ]);
  const [, c1] = sim.clients;
  await sim.tick(NODE_TTL_MS + 3 * HEARTBEAT_MS);
  expect(c1!.leaves()).toEqual([]);
  await sim.run({ k: "conn", c: 0, n: 2 });
  await sim.tick(WINDOW);
  expect(c1!.leaves()).toEqual([]);
  for (const players of Object.values(await playersEverywhere(sim))) expect(players).toEqual(["c0", "c1"]);
});

test("[finding 3] a dropped client whose detached session was on an instance that died: exactly one leave when its window closes", async () => {
  const sim = await play(4000, [{ k: "conn", c: 1, n: 1 }, { k: "tick", ms: 100 }, { k: "conn", c: 0, n: 0 }, { k: "tick", ms: 300 }, { k: "drop", c: 0, late: 0 }, { k: "tick", ms: 100 }, { k: "kill", n: 0 }]);
  const [, c1] = sim.clients;
  await sim.tick(4000 + NODE_TTL_MS + 3 * HEARTBEAT_MS);
  expect(c1!.leaves()).toEqual(["c0"]);
  for (const players of Object.values(await playersEverywhere(sim))) expect(players).toEqual(["c1"]);
});

test("[finding 3] docs/delivery.md and docs/config.md state the same leave rule (NODE_TTL_MS names the resume window)", () => {
  const config = readFileSync(resolve(import.meta.dir, "../../docs/config.md"), "utf8");
  const ttlRow = config.split("\n").find((l) => l.startsWith("| `NODE_TTL_MS`"))!;
  expect(ttlRow).toContain("RESUME_WINDOW_MS");
  const delivery = readFileSync(resolve(import.meta.dir, "../../docs/delivery.md"), "utf8");
  expect(delivery).toMatch(/instance (that )?\**(died|dies)\**|dead instance/i);
});
