/**
 * What one client was last sent in batch mode: the version of each pose it got by selection
 * (near or followed), and how far its entity ids are introduced. Bounded by the room's size:
 * departed slots are dropped when the table prunes them.
 * @module
 */

import type { PoseEntry } from "./table.ts";

/** A connection's batch-mode state. */
export class View {
  /** slot → version last sent (written back at each new selection; followed ones at once). */
  readonly sent = new Map<number, number>();
  /** Every slot below this has been introduced (its entity id sent). */
  introduced = 1;
  /** The nearest selection, and the tick it was made at (remade every few ticks). */
  near: PoseEntry[] = [];
  /** The version of each of {@link near} last sent (kept beside it: no map look-up per tick). */
  nearVer: number[] = [];
  nearTick = -Infinity;
  constructor(readonly table: object) {}

  /** Before a new selection: the versions sent of the current one go back to {@link sent}. */
  keep(): void {
    const near = this.near, ver = this.nearVer;
    for (let i = 0; i < near.length; i++) if (!near[i].dead && ver[i] >= 0) this.sent.set(near[i].slot, ver[i]);
  }

  /** After a new selection: the versions already sent of its entries. */
  recall(): void {
    const near = this.near, ver = this.nearVer;
    ver.length = near.length;
    for (let i = 0; i < near.length; i++) ver[i] = this.sent.get(near[i].slot) ?? -1;
  }

  /** A frame was skipped: everything goes again at the next one. */
  forget(): void {
    this.sent.clear();
    this.nearVer.fill(-1);
  }
}
