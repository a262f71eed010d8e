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
