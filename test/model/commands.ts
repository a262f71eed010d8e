/**
 * The model's commands: plain data, so a failing run shrinks to a short list that can be
 * pasted into the suite as a fixed case. Indices are taken modulo what exists (clients, node
 * slots), and a command that does not apply (a chat from a client that is not connected) does
 * nothing — every list is a valid run.
 * @module
 */
import fc from "fast-check";

/**
 * One step of a run. After each command pending async work settles, bus frames flow and
 * clients read — unless `q: true`: then the next command follows at once (concurrency).
 */
export type Cmd = (
  /** Client `c` connects to node `n`: a fresh join, or a resume when it holds a session. */
  | { k: "conn"; c: number; n: number }
  /** Client `c` closes deliberately (1000). */
  | { k: "leave"; c: number }
  /** Client `c` chats (to the room, or a whisper to client `w`). */
  | { k: "chat"; c: number; w?: number }
  /** Client `c` spawns (0), updates (1) or despawns (2) one of its entities (`p` picks which). */
  | { k: "entity"; c: number; op: number; p: number }
  /** Client `c` sends a position update (unreliable). */
  | { k: "move"; c: number }
  /** Client `c`'s TCP connection breaks; the server notices after `late` ms (0: at once). */
  | { k: "drop"; c: number; late: number }
  /** Instance `n` dies (kill -9). */
  | { k: "kill"; n: number }
  /** A dead instance `n` is started again (a new node id). */
  | { k: "restart"; n: number }
  /** Time passes. */
  | { k: "tick"; ms: number }
  /** Bus frames to instance `n` (-1: every instance, a stall) wait `ms`. */
  | { k: "hold"; n: number; ms: number }
  /** For `ms`, frames from different publishers are released in a shuffled order. */
  | { k: "shuffle"; ms: number }
  /** The shared backend is unreachable for `ms`; with `lose`, frames in flight on the bus are lost. */
  | { k: "outage"; ms: number; lose: boolean }
  /** Client `c` reads its socket only once a second (or normally again). */
  | { k: "slow"; c: number; on: boolean }
  /** One round only: async work settles, held bus frames and store replies go one step further. */
  | { k: "step" }
) & { q?: boolean };

/** A whole run. */
export interface Scenario {
  /** RESUME_WINDOW_MS of every instance. */
  windowMs: number;
  /** Seeds the runner's own choices (release order while shuffling). */
  seed: number;
  /**
   * The store answers asynchronously, one round trip per pump round (as Redis does), so joins
   * and resumes interleave with bus traffic; otherwise the memory backend's synchronous log.
   */
  async?: boolean;
  cmds: Cmd[];
}

/** The room every client joins. */
export const ROOM = "model";
/** Cluster timing of every run (the chaos run's values). */
export const HEARTBEAT_MS = 1000;
export const NODE_TTL_MS = 4000;
export const ACK_TIMEOUT_MS = 1000;
/** One tick of simulated time. */
export const STEP_MS = 50;

/** Clients of a run: the first {@link RELIABLE_CLIENTS} acknowledge (`?ack=1`), the rest are plain. */
export const CLIENTS = 6;
export const RELIABLE_CLIENTS = 4;
/** Instance slots. */
export const NODES = 3;

const c = fc.nat({ max: CLIENTS - 1 });
const n = fc.nat({ max: NODES - 1 });
/** Now and then a command does not wait for the previous one's async work. */
const q = fc.constantFrom(false, false, false, true);

/** One random command, weighted towards traffic and connection churn. */
export const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant("conn" as const), c, n, q: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("leave" as const), q, c }) },
  { weight: 10, arbitrary: fc.record({ k: fc.constant("chat" as const), q, c, w: fc.option(c, { nil: undefined, freq: 8 }) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant("entity" as const), q, c, op: fc.nat({ max: 2 }), p: fc.nat({ max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("move" as const), c }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant("drop" as const), q, c, late: fc.oneof(fc.constant(0), fc.integer({ min: 100, max: 3000 })) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("kill" as const), q, n }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("restart" as const), n }) },
  { weight: 8, arbitrary: fc.record({ k: fc.constant("tick" as const), ms: fc.oneof(fc.integer({ min: 10, max: 400 }), fc.integer({ min: 400, max: 6000 })) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("hold" as const), n: fc.integer({ min: -1, max: NODES - 1 }), ms: fc.integer({ min: 50, max: 2500 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("shuffle" as const), ms: fc.integer({ min: 100, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("outage" as const), ms: fc.integer({ min: 100, max: 6000 }), lose: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("slow" as const), c, on: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("step" as const), q: fc.constant(true) }) },
);

/** A run: a resume window (short or the chaos run's 10 s), a seed and up to `max` commands. */
export const scenarioArb = (max = 80): fc.Arbitrary<Scenario> =>
  fc.record({
    windowMs: fc.constantFrom(1500, 4000, 10_000),
    seed: fc.nat(),
    async: fc.boolean(),
    // Most runs start with the clients joining (some concurrently, before anything settles).
    cmds: fc
      .tuple(fc.array(fc.record({ k: fc.constant("conn" as const), c, n, q: fc.boolean() }), { maxLength: CLIENTS }), fc.array(cmdArb, { minLength: 1, maxLength: max, size: "max" }))
      .map(([joins, rest]): Cmd[] => [...joins, ...rest]),
  });
