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
const scratchD: number[] = [];
const sorted: number[] = [];

/**
 * Fills `into` with the selection around (x, z), leaving out entity `self`. Returns `into`.
 */
export function nearest(t: PoseTable, x: number, z: number, self: string, near: Near, into: PoseEntry[]): PoseEntry[] {
  into.length = 0;
  scratchE.length = 0;
  scratchD.length = 0;
  const cx = Math.floor(x / CELL), cz = Math.floor(z / CELL);
  const maxR = Math.max(cx - t.minCx, t.maxCx - cx, cz - t.minCz, t.maxCz - cz, 0);
  let limit = Infinity;
  for (let r = 0; r <= maxR; r++) {
    for (let i = cx - r; i <= cx + r; i++) {
      const edge = i === cx - r || i === cx + r;
      for (let j = cz - r; j <= cz + r; j += edge || r === 0 ? 1 : 2 * r) {
        const bucket = t.cell(i, j);
        if (!bucket) continue;
        for (const e of bucket) {
          if (e.id === self) continue;
          const dx = e.x - x, dz = e.z - z;
          scratchE.push(e);
          scratchD.push(dx * dx + dz * dz);
        }
      }
    }
    // Everything within r·CELL of the point has been seen.
    if (scratchE.length >= near.k) {
      sorted.length = 0;
      for (const d of scratchD) sorted.push(d);
      sorted.sort((a, b) => a - b);
      const dk = Math.sqrt(sorted[near.k - 1]);
      limit = Math.max(dk * MARGIN, near.radius);
      if (r * CELL >= limit) break;
    } else if (near.k <= 0 && r * CELL >= near.radius) {
      limit = near.radius;
      break;
    }
  }
  const lim2 = limit === Infinity ? Infinity : limit * limit;
  for (let i = 0; i < scratchE.length; i++) if (scratchD[i] <= lim2) into.push(scratchE[i]);
  return into;
}
