/**
 * One room's batch state: its pose table, its timer's progress, and the far group of the
 * current tick, encoded once per format (core/interest/index.ts).
 * @module
 */
import type { TimerHandle } from "../../lib/clock.ts";
import type { Connection } from "../connection.ts";
import type { Room } from "../room.ts";
import { PoseTable, type PoseEntry } from "./table.ts";

/** One room's batch state. */
export class RoomState {
  readonly table = new PoseTable();
  batching = false;
  timer?: TimerHandle;
  phase = 0;
  tick = 0;
  members: Connection[] = [];
  /** This tick's far group: protobuf entries and JSON entries, shared by every member. */
  farPb: Uint8Array[] = [];
  farPbBytes = 0;
  farJs = "";
  far: PoseEntry[] = [];
  /** Per far group: the version of each entry when the group last went out. */
  readonly farSent = new Map<PoseEntry, number>();
  constructor(readonly room: Room) {}

  /** Builds this tick's far group `g` of `G`: every entry of it that changed since it last went out. */
  buildFar(g: number, G: number): void {
    this.far = [];
    this.farPb = [];
    this.farPbBytes = 0;
    this.farJs = "";
    for (const e of this.table.list) {
      if (e.slot % G !== g || this.farSent.get(e) === e.version) continue;
      this.farSent.set(e, e.version);
      this.far.push(e);
    }
    if (this.far.length === 0) return;
    // Encoded once per format some batch member takes.
    let json = false, pb = false;
    for (const m of this.members) {
      if (m.batch && m.format === "json") json = true;
      else if (m.batch && m.format === "protobuf") pb = true;
      if (json && pb) break;
    }
    if (json) this.farJs = this.far.map((e) => e.json(false)).join(",");
    if (pb) {
      // One run of bytes for the whole group: one copy per member.
      const entries = this.far.map((e) => e.pb(false));
      for (const b of entries) this.farPbBytes += b.length;
      const run = new Uint8Array(this.farPbBytes);
      let p = 0;
      for (const b of entries) {
        run.set(b, p);
        p += b.length;
      }
      this.farPb.push(run);
    }
  }
}
