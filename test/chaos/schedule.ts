/**
 * The fault run's schedule, drawn from a seed before the run starts: the same seed gives the
 * same schedule (the real timing of the servers still varies). Counts scale with the duration
 * (issue 13's 60 s run: ~30 chats/s, an entity op every 1–2 s, ~35 drops, 4 leaves and
 * rejoins, one kill -9 and restart, one Redis stall of 1–2 s).
 * @module
 */

export { prng } from "../model/bus-control.ts";
import { prng } from "../model/bus-control.ts";

/** Acknowledging clients c0…c6, then plain senders p0…p2. */
export const ACK_CLIENTS = 7;
export const PLAIN_CLIENTS = 3;
export const INSTANCES = 3;

export type Event =
  | { at: number; k: "chat"; who: number }
  | { at: number; k: "entity"; who: number; op: number; pick: number }
  /** An acknowledging client's TCP connection is cut; it resumes on `node` after `after` ms. */
  | { at: number; k: "drop"; who: number; after: number; node: number }
  /** An acknowledging client closes deliberately and joins afresh on `node` after `after` ms. */
  | { at: number; k: "leave"; who: number; after: number; node: number }
  | { at: number; k: "kill"; node: number }
  | { at: number; k: "restart"; node: number }
  /** The Redis process is stopped (SIGSTOP) for `ms`. */
  | { at: number; k: "stall"; ms: number }
  /** Redis Cluster: the master owning the room's slot is killed (its replica takes over). */
  | { at: number; k: "failover" };

export interface ScheduleOptions {
  seed: number;
  durationMs: number;
  /** Fail a Redis Cluster master over instead of stalling Redis. */
  cluster: boolean;
  /** Traffic only, no faults (to check the harness itself: a calm run must pass). */
  calm?: boolean;
}

/** The events of one run, in time order. */
export function schedule(o: ScheduleOptions): Event[] {
  const r = prng(o.seed);
  const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
  const d = o.durationMs;
  const scale = d / 60_000;
  const out: Event[] = [];
  for (let t = 500; t < d; t += int(20, 46)) out.push({ at: t, k: "chat", who: int(0, ACK_CLIENTS + PLAIN_CLIENTS - 1) });
  for (let t = 1000; t < d; t += int(1000, 2000)) out.push({ at: t, k: "entity", who: int(0, ACK_CLIENTS - 1), op: int(0, 2), pick: int(0, 9) });
  if (o.calm) return out.sort((a, b) => a.at - b.at);
  const drops = Math.max(3, Math.round(35 * scale));
  for (let i = 0; i < drops; i++) out.push({ at: int(1000, d - 3500), k: "drop", who: int(0, ACK_CLIENTS - 1), after: int(100, 3000), node: int(0, INSTANCES - 1) });
  const leaves = Math.max(2, Math.round(4 * scale));
  for (let i = 0; i < leaves; i++) out.push({ at: int(1500, d - 4000), k: "leave", who: int(0, ACK_CLIENTS - 1), after: int(500, 2000), node: int(0, INSTANCES - 1) });
  const victim = int(0, INSTANCES - 1);
  const killAt = Math.round(d * (0.35 + 0.1 * r()));
  out.push({ at: killAt, k: "kill", node: victim });
  out.push({ at: Math.min(d - 2000, killAt + Math.round(d * (0.2 + 0.05 * r()))), k: "restart", node: victim });
  if (o.cluster) out.push({ at: Math.round(d * (0.5 + 0.1 * r())), k: "failover" });
  else out.push({ at: Math.round(d * (0.2 + 0.1 * r())), k: "stall", ms: int(1000, 2000) });
  // An entity op still in flight when its TCP connection is cut may or may not have reached the
  // server: nobody can say what the world should hold. Keep them clear of cuts (600 ms).
  const cutAt = (who: number, at: number) => out.some((e) => (e.k === "kill" || (e.k === "drop" && e.who === who)) && e.at >= at && e.at - at < 600);
  return out.filter((e) => e.k !== "entity" || !cutAt(e.who, e.at)).sort((a, b) => a.at - b.at);
}
