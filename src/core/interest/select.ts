/**
 * Nearest selection over the grid: the K nearest entries to a point, plus any up to 10 %
 * farther than the K-th (so an entity at the edge does not flicker in and out at every step)
 * and any within the radius. Cost: the cells of the rings searched, not the room.
 * @module
 */
import { CELL, type PoseEntry, type PoseTable } from "./table.ts";

/** Selection limits (INTEREST_NEAREST, INTEREST_RADIUS). */
export interface Near {
  k: number;
  radius: number;
}

const MARGIN = 1.1;
const scratchE: PoseEntry[] = [];
let scratchD = new Float64Array(256);
let sorted = new Float64Array(256);

/** The `k`-th smallest of the first `n` squared distances (a native numeric sort of a copy). */
function kth(n: number, k: number): number {
  if (sorted.length < n) sorted = new Float64Array(scratchD.length);
  const s = sorted.subarray(0, n);
  s.set(scratchD.subarray(0, n));
  s.sort();
  return s[k - 1];
}

/**
 * Fills `into` with the selection around (x, z), leaving out entity `self`. Returns `into`.
 * Rings of cells are searched outwards until they cover the K-th distance plus the margin (or
 * the radius); the K-th distance is taken twice at most.
 */
export function nearest(t: PoseTable, x: number, z: number, self: string, near: Near, into: PoseEntry[]): PoseEntry[] {
  into.length = 0;
  scratchE.length = 0;
  let n = 0;
  const cx = Math.floor(x / CELL), cz = Math.floor(z / CELL);
  const maxR = Math.max(cx - t.minCx, t.maxCx - cx, cz - t.minCz, t.maxCz - cz, 0);
  let limit = Infinity;
  let r = 0;
  const ring = (r: number) => {
    for (let i = cx - r; i <= cx + r; i++) {
      const edge = i === cx - r || i === cx + r;
      for (let j = cz - r; j <= cz + r; j += edge || r === 0 ? 1 : 2 * r) {
        const bucket = t.cell(i, j);
        if (!bucket) continue;
        for (const e of bucket) {
          if (e.id === self) continue;
          const dx = e.x - x, dz = e.z - z;
          if (n === scratchD.length) {
            const grown = new Float64Array(n * 2);
            grown.set(scratchD);
            scratchD = grown;
          }
          scratchE.push(e);
          scratchD[n++] = dx * dx + dz * dz;
        }
      }
    }
  };
  // Out to the K-th nearest (or the radius); everything within r·CELL has been seen after ring r.
  for (; r <= maxR; r++) {
    ring(r);
    if (near.k > 0 ? n >= near.k && r * CELL >= near.radius : r * CELL >= near.radius) break;
  }
  if (near.k > 0 && n >= near.k) {
    limit = Math.max(Math.sqrt(kth(n, near.k)) * MARGIN, near.radius);
    if (r * CELL < limit) {
      for (r++; r <= maxR && (r - 1) * CELL < limit; r++) ring(r);
      limit = Math.max(Math.sqrt(kth(n, near.k)) * MARGIN, near.radius);
    }
  } else if (near.k <= 0) limit = near.radius;
  const lim2 = limit === Infinity ? Infinity : limit * limit;
  for (let i = 0; i < n; i++) if (scratchD[i] <= lim2) into.push(scratchE[i]);
  return into;
}
