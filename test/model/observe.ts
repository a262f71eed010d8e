/**
 * What a model run observed, and the run itself: the probes after the settle (a fresh plain
 * client on each live instance), the snapshots the leave check needs, and {@link runScenario}.
 * @module
 */
import { ModelClient } from "./client.ts";
import type { Scenario } from "./commands.ts";
import { ROOM, STEP_MS } from "./commands.ts";
import type { Sim } from "./runner.ts";
import { logEntries, type LogRecord } from "./sim-node.ts";

/** After each action: the log head, and which clients the room may hear leave at that point. */
export interface Snapshot {
  head: number;
  at: number;
  leavable: Set<string>;
}

/** What a probe (a fresh plain client) saw on one instance after the run. */
export interface Probe {
  node: string;
  players: string[];
  entities: Map<string, string>;
  stats: string[];
  /** Whether its hello came at all. */
  hello: boolean;
}

/** Everything a run observed. */
export interface RunResult {
  scenario: Scenario;
  clients: ModelClient[];
  log: LogRecord[];
  snapshots: Snapshot[];
  /** Leaves delivered without a seq (outside the log), with whether the client was leavable then. */
  unsequencedLeaves: { about: string; at: number; leavable: boolean; to: string }[];
  /** Client id → whether it is connected at the end (expected in presence). */
  connectedAtEnd: Set<string>;
  /** Expected entities at the end (id → value of component `v`). */
  expectedEntities: Map<string, string>;
  probes: Probe[];
  windowMs: number;
  crashes: string[];
}

/** A fresh plain client on each live instance: its hello's players and entities, and the instance's stats. */
export async function probeAll(sim: Sim): Promise<Probe[]> {
  const out: Probe[] = [];
  for (const node of sim.slots) {
    if (!node?.alive) continue;
    const p = new ModelClient(`probe-${node.nodeId}`, ROOM, false, "json", () => sim.clock.now());
    p.connect(node);
    for (let i = 0; i < 20 && p.hellos.length === 0; i++) {
      await sim.tick(STEP_MS);
      p.read();
    }
    const h = p.hellos[0];
    const entities = new Map<string, string>();
    for (const e of h?.initial_state?.entities ?? []) entities.set(String(e.id), String((e.components as Record<string, string> | undefined)?.v ?? ""));
    const stats = (await sim.awaitPumping(node.roomStats(ROOM))).map((s) => s.client_id).sort();
    out.push({
      node: node.nodeId,
      hello: h !== undefined,
      players: (h?.initial_state?.players ?? []).map((x) => String(x.client_id)).sort(),
      entities,
      stats,
    });
    p.leave();
    await sim.tick(STEP_MS * 4);
  }
  return out;
}

/** Everything a run observed (after the settle and the probes). */
export function resultOf(sim: Sim, probes: Probe[]): RunResult {
  const connectedAtEnd = new Set<string>();
  const expectedEntities = new Map<string, string>();
  for (const c of sim.clients) {
    if (c.state !== "connected") continue;
    connectedAtEnd.add(c.id);
    for (const [e, v] of c.expectedEntities()) expectedEntities.set(e, v);
  }
  return {
    scenario: sim.scenario,
    clients: sim.clients,
    log: logEntries(sim.broker, ROOM),
    snapshots: sim.snapshots,
    unsequencedLeaves: sim.unsequencedLeaves,
    connectedAtEnd,
    expectedEntities,
    probes,
    windowMs: sim.scenario.windowMs,
    crashes: sim.crashes,
  };
}

/** Runs a whole scenario and returns what it observed. */
export async function runScenario(s: Scenario): Promise<RunResult> {
  const { Sim } = await import("./runner.ts");
  const sim = new Sim(s);
  try {
    for (const cmd of s.cmds) await sim.run(cmd);
    await sim.settleAll();
    return resultOf(sim, await probeAll(sim));
  } finally {
    await sim.close();
  }
}
