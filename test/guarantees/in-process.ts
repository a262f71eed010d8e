/**
 * In-process clusters for the guarantee tests: the model's {@link Sim} (three instances on one
 * manual-delivery broker, a ManualClock, SDK-like clients c0–c3 acknowledging and c4–c5 plain),
 * driven command by command so a test can interleave what it needs and then assert on what
 * the clients got. Everything goes through test/model/sim-node.ts (the one adapter to the hub).
 * @module
 */
import type { Cmd } from "../model/commands.ts";
import { Sim } from "../model/runner.ts";

export { Sim };

/** A simulated cluster after `cmds`. `async`: the store answers one round trip at a time (as Redis). */
export async function play(windowMs: number, cmds: Cmd[], async = false): Promise<Sim> {
  const sim = new Sim({ windowMs, seed: 0, async, cmds: [] });
  for (const c of cmds) await sim.run(c);
  return sim;
}

/** Client ids of the players a fresh joiner sees on each live instance. */
export async function playersEverywhere(sim: Sim): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const p of await sim.probe()) out[p.node] = p.players.filter((id) => !id.startsWith("probe-"));
  return out;
}
