/**
 * The per-room pose table: the newest pose of every avatar and moving entity (local and remote
 * updates alike), a uniform grid over the ground plane (x, z) for nearest queries, and each
 * pose's encodings, made at most once per pose and format.
 * @module
 */
import type { Outbound } from "../../protocol/codec.ts";
import { batchJson, poseEntry, poseInts, poseJson, type PoseInts } from "./codec.ts";

/** Grid cell edge in metres. */
export const CELL = 4;
const OFF = 1 << 20;
const key = (cx: number, cz: number): number => (cx + OFF) * (2 * OFF) + (cz + OFF);

/** One entity's newest pose. */
export class PoseEntry {
  /** Bumped on every new pose. */
  version = 0;
  x = 0;
  z = 0;
  cell = NaN;
  /** When the server took it (ms). */
  at = 0;
  q!: PoseInts;
  seq = 0;
  /** The newest POSITION_UPDATE (single frames, encoded lazily once per format). */
  out!: Outbound;
  #pb?: Uint8Array;
  #pbIntro?: Uint8Array;
  #js?: string;
  #jsIntro?: string;
  /** Set once removed from the table. */
  dead = false;

  constructor(readonly id: string, readonly slot: number) {}

  /** Takes a new pose. */
  set(out: Outbound, now: number): void {
    const p = out.msg.position_update!;
    this.out = out;
    this.q = poseInts(p.position, p.rotation);
    this.x = p.position?.x ?? 0;
    this.z = p.position?.z ?? 0;
    if (!Number.isFinite(this.x)) this.x = 0;
    if (!Number.isFinite(this.z)) this.z = 0;
    this.seq = p.sequence_number ?? 0;
    this.at = now;
    this.version++;
    this.#pb = this.#pbIntro = this.#js = this.#jsIntro = undefined;
  }

  /** The protobuf entry (with the entity id when `intro`). */
  pb(intro: boolean): Uint8Array {
    if (intro) return (this.#pbIntro ??= poseEntry(this.slot, this.q, this.seq, this.id));
    return (this.#pb ??= poseEntry(this.slot, this.q, this.seq));
  }

  /** The JSON entry (with the entity id when `intro`). */
  json(intro: boolean): string {
    if (intro) return (this.#jsIntro ??= poseJson(this.slot, this.q, this.seq, this.id));
    return (this.#js ??= poseJson(this.slot, this.q, this.seq));
  }
}

/** Poses of one room. */
export class PoseTable {
  readonly byId = new Map<string, PoseEntry>();
  /** Entries in slot order (slots only grow; removed ones are compacted away). */
  list: PoseEntry[] = [];
  readonly grid = new Map<number, PoseEntry[]>();
  /** The next slot number: slots are never reused in a room. */
  nextSlot = 1;
  minCx = 0;
  maxCx = 0;
  minCz = 0;
  maxCz = 0;

  /** Records the pose in `out` (a POSITION_UPDATE with its entity id). */
  put(out: Outbound, now: number): PoseEntry {
    const id = out.msg.position_update!.entity_id ?? "";
    let e = this.byId.get(id);
    if (!e) {
      e = new PoseEntry(id, this.nextSlot++);
      this.byId.set(id, e);
      this.list.push(e);
    }
    e.set(out, now);
    this.#place(e);
    return e;
  }

  #place(e: PoseEntry): void {
    const cx = Math.floor(e.x / CELL), cz = Math.floor(e.z / CELL);
    const k = key(cx, cz);
    if (k === e.cell) return;
    if (!Number.isNaN(e.cell)) this.#unplace(e);
    e.cell = k;
    const bucket = this.grid.get(k);
    if (bucket) bucket.push(e);
    else this.grid.set(k, [e]);
    if (this.byId.size === 1 && this.list.length === 1) {
      this.minCx = this.maxCx = cx;
      this.minCz = this.maxCz = cz;
    } else {
      if (cx < this.minCx) this.minCx = cx;
      if (cx > this.maxCx) this.maxCx = cx;
      if (cz < this.minCz) this.minCz = cz;
      if (cz > this.maxCz) this.maxCz = cz;
    }
  }

  #unplace(e: PoseEntry): void {
    const bucket = this.grid.get(e.cell);
    if (!bucket) return;
    const i = bucket.indexOf(e);
    if (i >= 0) {
      bucket[i] = bucket[bucket.length - 1];
      bucket.pop();
    }
    if (bucket.length === 0) this.grid.delete(e.cell);
  }

  /** The entries of grid cell (cx, cz), if any. */
  cell(cx: number, cz: number): PoseEntry[] | undefined {
    return this.grid.get(key(cx, cz));
  }

  /** Removes every entry `keep` refuses (departed players, despawned entities); returns their slots. */
  prune(keep: (id: string) => boolean): number[] {
    const gone: number[] = [];
    for (const e of this.list) {
      if (keep(e.id)) continue;
      e.dead = true;
      gone.push(e.slot);
      this.byId.delete(e.id);
      this.#unplace(e);
    }
    if (gone.length) this.list = this.list.filter((e) => !e.dead);
    return gone;
  }

  /** Index in {@link list} of the first entry with slot ≥ `slot`. */
  indexFrom(slot: number): number {
    let lo = 0, hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid].slot < slot) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export { batchJson };
