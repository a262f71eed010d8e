/**
 * V8's memory-reducing collection for the Node host (Node and Deno), through the in-process
 * inspector (`node:inspector`, a public API of both; no flag, no port): `HeapProfiler.collectGarbage`
 * runs V8's low-memory collection, which compacts old space and shrinks the young generation.
 * Neither V8's own heuristics after a connect burst nor `--expose-gc`'s `gc()` do that: 12 s
 * after a burst of 10,000, idle connections held ~11 KiB each without it and ~6.3 with it
 * (bench/ANALYSIS.md).
 * @module
 */
import { Session } from "node:inspector";
import { setImmediate } from "node:timers";

/**
 * Starts one memory-reducing collection (the process pauses for it: ~0.15 s per 10,000 idle
 * connections here); true when it started. Does nothing (false) where the inspector is not
 * allowed: Deno asks for `--allow-sys` (all of it) to open a session, which `deno task start`
 * does not grant, so Deno skips it.
 */
export function collectReducingMemory(): boolean {
  let session: Session;
  try {
    session = new Session();
    session.connect();
  } catch {
    return false; // no inspector in this build, or not allowed (Deno without --allow-sys)
  }
  // Disconnecting inside the reply's callback blocks Node's main thread for good: leave it first.
  session.post("HeapProfiler.collectGarbage", () => void setImmediate(() => session.disconnect()));
  return true;
}
