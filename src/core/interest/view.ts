/**
 * What one client was last sent in batch mode: the version of each pose it got by selection
 * (near or followed), and how far its entity ids are introduced. Bounded by the room's size:
 * departed slots are dropped when the table prunes them.
 * @module
 */

import type { PoseEntry } from "./table.ts";

/** A connection's batch-mode state. */
export class View {
  /** slot → version last sent (near and followed entities only). */
  readonly sent = new Map<number, number>();
  /** Every slot below this has been introduced (its entity id sent). */
  introduced = 1;
  /** The nearest selection, and the tick it was made at (remade every few ticks). */
  near: PoseEntry[] = [];
  nearTick = -Infinity;
  constructor(readonly table: object) {}
}
