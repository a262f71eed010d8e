/**
 * Reliable messages leave each instance in room-sequence order. With several instances an
 * instance learns of the room's entries on two paths — replies to its own appends and the
 * other instances' publications — which can arrive out of order; clients, though, acknowledge
 * cumulatively and de-duplicate by `seq`, so a message delivered after a later one would be
 * dropped as a duplicate. Entries that arrive early wait here until the gap before them fills;
 * a gap that stays open is filled from the room log (or skipped if the log no longer has it).
 * With one instance entries always arrive in order and pass straight through.
 * @module
 */
import type { LogEntry, RoomLog } from "../cluster/types.ts";
import type { Clock } from "../core/clock.ts";
import type { Room } from "../core/room.ts";

/** How long an entry waits for the ones before it before the log is asked. */
export const GAP_WAIT_MS = 250;

/** Per-room in-order release of reliable entries. */
export class InOrder {
  constructor(
    readonly log: RoomLog,
    readonly clock: Clock,
    /** Delivers an entry the log had to fill in (the sender is unknown then). */
    readonly fill: (room: Room, entry: LogEntry) => void,
  ) {}

  /** Runs `deliver` for entry (`epoch`, `seq`) in order; drops duplicates. */
  accept(room: Room, epoch: number, seq: number, deliver: () => void): void {
    if (epoch !== room.epoch) {
      // A new epoch (first use, the log expired, or Redis lost its data): start counting there.
      room.epoch = epoch;
      room.seq = seq - 1;
      room.early.clear();
    }
    if (seq <= room.seq) return;
    if (seq !== room.seq + 1) {
      room.early.set(seq, deliver);
      this.#arm(room);
      return;
    }
    room.seq = seq;
    deliver();
    this.#drain(room);
  }

  #drain(room: Room): void {
    for (let next = room.early.get(room.seq + 1); next; next = room.early.get(room.seq + 1)) {
      room.early.delete(room.seq + 1);
      room.seq++;
      next();
    }
  }

  #arm(room: Room): void {
    if (room.gapTimer !== undefined) return;
    room.gapTimer = this.clock.setTimeout(() => {
      room.gapTimer = undefined;
      if (room.early.size > 0) void this.#fill(room);
    }, GAP_WAIT_MS);
  }

  async #fill(room: Room): Promise<void> {
    const first = Math.min(...room.early.keys());
    const epoch = room.epoch;
    let got: LogEntry[] | null = null;
    try {
      got = await this.log.read(room.id, epoch, room.seq, first - room.seq - 1);
    } catch {
      // the log is unreachable: skip the gap below
    }
    if (room.epoch !== epoch) return;
    for (const e of got ?? []) if (e.seq === room.seq + 1) room.seq = e.seq, this.fill(room, e);
    if (room.early.size > 0 && !room.early.has(room.seq + 1)) room.seq = Math.min(...room.early.keys()) - 1; // give up on the rest
    this.#drain(room);
    if (room.early.size > 0) this.#arm(room);
  }
}
