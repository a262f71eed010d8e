/**
 * The memory backend's room log: each room's epoch, seq and a ring of its latest entries, kept
 * by the broker and read by every node. Every call answers synchronously.
 * @module
 */
import type { Clock } from "../lib/clock.ts";
import { ByteArena } from "../lib/frame-alloc.ts";
import { randomEpoch } from "../lib/ids.ts";
import type { MemoryBroker } from "./memory-broker.ts";
import type { MemoryBus } from "./memory-bus.ts";
import { applyChange } from "./memory-world.ts";
import { sequenced } from "./shared.ts";
import type { Appended, LogEntry, RoomChange, RoomLog } from "./types.ts";

/** One room's log. */
interface RoomLogState {
  epoch: number;
  seq: number;
  /**
   * Frames of the last `historySize` entries, at `seq % historySize` (grows as entries come).
   * Only the frame: an entry's seq is its position and its epoch the log's, and an object per
   * entry kept for every join of every room was ~48 B per idle connection.
   */
  ring: (Uint8Array | undefined)[];
  /** Append time of each ring slot. */
  at: number[];
  /** Oldest seq still readable (entries before it were trimmed by count or age). */
  oldest: number;
  /** Last append (or creation); the log is forgotten `historyTtlMs` after it. */
  touched: number;
  /** Where the ring's frames are kept (dropped in order, as the ring wraps or ages). */
  arena: ByteArena;
}

/** The logs of every room of one broker, trimmed by count and age. */
export class MemoryLogs {
  readonly #logs = new Map<string, RoomLogState>();
  #nextSweep = 0;

  constructor(
    readonly clock: Clock,
    readonly historySize: number,
    readonly historyTtlMs: number,
  ) {}

  /** The log of `room`, created (new epoch) when absent or idle past the TTL. */
  state(room: string, create: boolean): RoomLogState | undefined {
    const now = this.clock.now();
    if (now >= this.#nextSweep) this.#sweep(now);
    let s = this.#logs.get(room);
    if (s && now - s.touched > this.historyTtlMs) {
      this.#logs.delete(room);
      s = undefined;
    }
    if (!s && create) {
      s = { epoch: randomEpoch(), seq: 0, ring: [], at: [], oldest: 1, touched: now, arena: new ByteArena() };
      this.#logs.set(room, s);
    }
    if (s) this.#trimAge(s, now);
    return s;
  }

  /** Forgets every log (as Redis restarted empty would). */
  clear(): void {
    this.#logs.clear();
  }

  #trimAge(s: RoomLogState, now: number): void {
    const cutoff = now - this.historyTtlMs;
    const n = this.historySize;
    while (s.oldest <= s.seq && s.at[s.oldest % n]! < cutoff) {
      s.ring[s.oldest % n] = undefined;
      s.oldest++;
    }
  }

  #sweep(now: number): void {
    this.#nextSweep = now + Math.max(1_000, this.historyTtlMs / 2);
    for (const [room, s] of this.#logs) if (now - s.touched > this.historyTtlMs) this.#logs.delete(room);
  }
}

/** The room log over the broker's shared state; every call answers synchronously. */
export class MemoryRoomLog implements RoomLog {
  constructor(readonly broker: MemoryBroker, readonly bus: MemoryBus) {}

  /** @throws {ClusterUnavailableError} while the broker is marked unavailable. */
  append(room: string, frames: Uint8Array[], change?: RoomChange): Appended | null {
    this.broker.check();
    const applied = change ? applyChange(this.broker, room, change) : { orphans: [], announce: true };
    if (applied === null) return null;
    const { orphans } = applied;
    if (!applied.announce) frames = [];
    const logs = this.broker.logs;
    const s = logs.state(room, true)!;
    const n = logs.historySize;
    const entries: LogEntry[] = [];
    for (const frame of frames) {
      const seq = ++s.seq;
      const entry: LogEntry = { seq, epoch: s.epoch, frame: sequenced(frame, seq, s.epoch, s.arena) };
      s.ring[seq % n] = entry.frame;
      s.at[seq % n] = s.touched = logs.clock.now();
      if (seq - s.oldest >= n) s.oldest = seq - n + 1;
      this.bus.publish(room, entry.frame);
      entries.push(entry);
    }
    return { entries, orphans };
  }

  read(room: string, epoch: number, afterSeq: number, limit: number): LogEntry[] | null {
    this.broker.check();
    const s = this.broker.logs.state(room, false);
    if (!s || s.epoch !== epoch || afterSeq > s.seq || afterSeq < 0) return null;
    if (afterSeq + 1 < s.oldest) return null;
    const out: LogEntry[] = [];
    const end = Math.min(s.seq, afterSeq + Math.max(0, limit));
    const n = this.broker.logs.historySize;
    for (let q = afterSeq + 1; q <= end; q++) out.push({ seq: q, epoch: s.epoch, frame: s.ring[q % n]! });
    return out;
  }

  rebase(room: string, epoch: number): number {
    this.broker.check();
    const s = this.broker.logs.state(room, true)!;
    if (s.epoch === epoch) {
      s.epoch = randomEpoch();
      s.seq = 0;
      s.ring = [];
      s.at = [];
      s.oldest = 1;
    }
    return s.epoch;
  }

  head(room: string): { epoch: number; seq: number } {
    this.broker.check();
    const s = this.broker.logs.state(room, true)!;
    return { epoch: s.epoch, seq: s.seq };
  }
}
