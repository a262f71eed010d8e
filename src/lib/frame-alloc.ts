/**
 * Where the bytes of a stamped frame come from. A fresh small `Uint8Array` is cheap on
 * JavaScriptCore (Bun, ~30 ns), but on V8 (Node, Deno) each one above 64 bytes gets its own
 * ArrayBuffer backing store: 0.4–0.9 µs for a ~70-byte position frame on this project's bench
 * machine, more than the rest of its stamping. The Node host (Node and Deno) therefore turns on
 * {@link useFrameSlab}: frames become views into a shared 8 KiB slab, as Node's own `Buffer`
 * pool does — with the same trade-off (a frame kept for long, in a slow consumer's queue, keeps
 * its slab alive).
 * @module
 */

const SLAB_BYTES = 8192;
/** Frames larger than this get their own buffer (as Node's pool does above half its size). */
const MAX_FROM_SLAB = SLAB_BYTES / 2;

let slabOn = false;
let slab = new Uint8Array(0);
let used = 0;

/** Zeroed bytes for a frame of `n` bytes: its own buffer, or a view into the current slab. */
export function allocFrame(n: number): Uint8Array {
  if (!slabOn || n > MAX_FROM_SLAB) return new Uint8Array(n);
  if (used + n > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  used = (used + n + 7) & ~7; // the next frame starts 8-byte aligned
  return out;
}

/** Makes {@link allocFrame} carve frames out of shared slabs (for V8 runtimes; set once by the host). */
export function useFrameSlab(on = true): void {
  slabOn = on;
}

/** First and largest chunk of a {@link ByteArena}; larger requests get their own buffer. */
const ARENA_FIRST = 512;
const ARENA_MAX = 4096;
const MAX_FROM_ARENA = 1024;

/**
 * Bytes that one owner keeps and drops oldest first (a room log's ring of entries). On V8 a
 * small `Uint8Array` of its own costs ~0.5 KiB of memory beyond its bytes (its ArrayBuffer,
 * backing store and their bookkeeping, much of it malloc'd): as much again as a ~150-byte log
 * entry, kept per join in every room (memory per idle connection, issue 14). With the slab on,
 * an arena carves them out of chunks it alone fills (512 B first, doubling to 4 KiB, so a room
 * with one entry wastes little), and a chunk is freed once its last entry is: as the owner
 * drops entries in order, at most its oldest chunk is partly dead. Off (JavaScriptCore, where
 * a small array is cheap), every request is an array of its own.
 */
export class ByteArena {
  #chunk = new Uint8Array(0);
  #used = 0;
  #next = ARENA_FIRST;

  /** Zeroed bytes for `n`, owned by this arena's chunk (or by themselves). */
  alloc(n: number): Uint8Array {
    if (!slabOn || n > MAX_FROM_ARENA) return new Uint8Array(n);
    if (this.#used + n > this.#chunk.length) {
      this.#chunk = new Uint8Array(this.#next);
      this.#next = Math.min(ARENA_MAX, this.#next * 2);
      this.#used = 0;
    }
    const out = this.#chunk.subarray(this.#used, this.#used + n);
    this.#used += n;
    return out;
  }
}

/**
 * `b[start…]` for a frame of its own: a view where {@link useFrameSlab} is on (V8: a buffer of its
 * own costs far more than a view), a copy elsewhere — on JavaScriptCore the first view of a small
 * array makes it an ArrayBuffer first, which costs more than copying its few bytes (a long one is still a view).
 */
export function tailOf(b: Uint8Array, start: number): Uint8Array {
  return slabOn || b.length - start > MAX_FROM_SLAB ? b.subarray(start) : b.slice(start);
}
