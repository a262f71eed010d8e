/**
 * The shapes `Sessions` (core/sessions.ts) takes and gives: how a departure departs, and
 * how a joining connection got its client id.
 * @module
 */
import type { Holder } from "../cluster/types.ts";

/**
 * How `Sessions.depart` departs: only while the hold is `detached` with its window closed,
 * held through `conn`, or the `user`'s; `after` runs once the log answered; `reset` keeps the
 * hold (see `Sessions.restart`); a `deliberate` end (1000, a kick) wins even after a
 * takeover (see `Sessions.#superseded`).
 */
export interface Departure {
  detached?: boolean;
  conn?: string;
  user?: string | null;
  after?: () => void;
  reset?: boolean;
  deliberate?: boolean;
}

/** How a joining connection got its client id. */
export type Admission =
  | { kind: "fresh"; /** It took over a hold of a connection that ended here unheard (its leave still waits): that session ends first. */ restart?: boolean }
  | { kind: "resumed"; /** Replay the room log after this point. */ epoch?: number; lastSeq: number }
  | { kind: "conflict"; holder: Holder };
