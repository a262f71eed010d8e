/**
 * Reliable entries leave each instance in room-sequence order. An instance learns of a room's
 * entries on two paths — replies to its own appends and the other instances' publications —
 * which can arrive out of order; clients, though, acknowledge cumulatively and de-duplicate by
 * `seq`, so an entry delivered after a later one would be dropped as a duplicate. Entries that
 * arrive early wait here until the gap before them fills; a gap that stays open is filled from
 * the room log (or skipped if the log no longer has it).
 *
 * A new epoch (the log forgot the room: idle expiry, or Redis lost its data) starts counting
 * from 0, so its entries, too, are released from seq 1 in order — gaps filled from the log.
 * Entries of an epoch the room has left are dropped.
 * @module
 */
import type { LogEntry, RoomLog } from "../cluster/types.ts";
import type { Clock } from "../lib/clock.ts";
import type { RoomChannel } from "./recipient.ts";

/** How long an entry waits for the ones before it before the log is asked. */
export const GAP_WAIT_MS = 250;

/** Per-room in-order release of reliable entries. */
export class InOrder {
  constructor(
    readonly log: RoomLog,
    readonly clock: Clock,
    /** Handles an entry the log had to fill in (its effect and delivery, as for a remote one). */
    readonly fill: (ch: RoomChannel, entry: LogEntry) => void,
  ) {}

  /** Runs `deliver` for entry (`epoch`, `seq`) in order; drops duplicates and entries of past epochs. */
  accept(ch: RoomChannel, epoch: number, seq: number, deliver: () => void): void {
    if (epoch !== ch.epoch) {
      if (ch.pastEpochs.has(epoch)) return;
      this.newEpoch(ch, epoch);
    }
    if (seq <= ch.seq) return;
    if (seq !== ch.seq + 1) {
      ch.early.set(seq, deliver);
      this.#arm(ch);
      return;
    }
    ch.seq = seq;
    deliver();
    this.#drain(ch);
  }

  /**
   * The room log's head was read as (`epoch`, `seq`): entries up to it that have still not
   * arrived after {@link GAP_WAIT_MS} are read from the log — an entry lost on its way here
   * (a bus message dropped in an outage) with nothing after it would otherwise never come.
   */
  catchUp(ch: RoomChannel, epoch: number, seq: number): void {
    if (epoch !== ch.epoch) {
      if (ch.pastEpochs.has(epoch) || seq === 0) return;
      this.newEpoch(ch, epoch);
    }
    if (seq <= ch.seq) return;
    ch.behind = Math.max(ch.behind, seq);
    this.#arm(ch);
  }

  /** Moves the room to `epoch`, counting from 0 (the new epoch's entries all come in order). */
  newEpoch(ch: RoomChannel, epoch: number): void {
    if (ch.epoch !== 0) ch.pastEpochs.add(ch.epoch);
    if (ch.pastEpochs.size > 16) ch.pastEpochs.delete(ch.pastEpochs.values().next().value!);
    ch.epoch = epoch;
    ch.seq = 0;
    ch.behind = 0;
    ch.early.clear();
  }

  #drain(ch: RoomChannel): void {
    for (let next = ch.early.get(ch.seq + 1); next; next = ch.early.get(ch.seq + 1)) {
      ch.early.delete(ch.seq + 1);
      ch.seq++;
      next();
    }
  }

  #arm(ch: RoomChannel): void {
    if (ch.gapTimer !== undefined) return;
    ch.gapTimer = this.clock.setTimeout(() => {
      ch.gapTimer = undefined;
      if (ch.early.size > 0 || ch.behind > ch.seq) void this.#fill(ch);
    }, GAP_WAIT_MS);
  }

  async #fill(ch: RoomChannel): Promise<void> {
    const first = ch.early.size > 0 ? Math.min(...ch.early.keys()) : ch.behind + 1;
    const epoch = ch.epoch;
    const from = ch.seq;
    if (first - from - 1 <= 0) {
      // Nothing to read: the next entry is here already (it came while the room was opening).
      ch.behind = 0;
      this.#drain(ch);
      if (ch.early.size > 0) this.#arm(ch);
      return;
    }
    let got: LogEntry[] | null = null;
    try {
      got = await this.log.read(ch.id, epoch, from, first - from - 1);
    } catch {
      // the log is unreachable: try again later (below)
      if (ch.epoch === epoch && (ch.early.size > 0 || ch.behind > ch.seq)) this.#arm(ch);
      return;
    }
    if (ch.epoch !== epoch) return;
    for (const e of got ?? []) if (e.seq === ch.seq + 1) (ch.seq = e.seq), this.fill(ch, e);
    // What the log no longer has cannot come: skip to the first entry that is here.
    if (ch.early.size > 0 && !ch.early.has(ch.seq + 1) && got === null) ch.seq = Math.min(...ch.early.keys()) - 1;
    this.#drain(ch);
    // A head that cannot be reached (history gone, or no progress) is given up: later entries move the room on.
    if (ch.behind <= ch.seq || got === null || ch.seq === from) ch.behind = 0;
    if (ch.early.size > 0 || ch.behind > ch.seq) this.#arm(ch);
  }
}
