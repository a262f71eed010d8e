/**
 * POSE_BATCH in the SDK: slots → entity ids (learnt from each slot's first mention, per
 * connection), and each pose back to a position update in metres (docs/protocol.md,
 * "Batches and interest").
 * @module
 */
import type { PoseBatch, PositionUpdate } from "../protocol/types.ts";

const MM = 1000;
const Q = 4096;

/** The slot names of one connection. */
export class PoseSlots {
  readonly #ids = new Map<number, string>();

  /** A new connection: slots start over. */
  clear(): void {
    this.#ids.clear();
  }

  /** The batch's poses as position updates (a slot never named is skipped). */
  read(batch: PoseBatch): PositionUpdate[] {
    const out: PositionUpdate[] = [];
    for (const p of batch.poses ?? []) {
      const slot = Number(p.slot ?? 0);
      if (p.entity_id) this.#ids.set(slot, p.entity_id);
      const id = this.#ids.get(slot);
      if (id === undefined) continue;
      out.push({
        entity_id: id,
        position: { x: (p.x ?? 0) / MM, y: (p.y ?? 0) / MM, z: (p.z ?? 0) / MM },
        rotation: { x: (p.qx ?? 0) / Q, y: (p.qy ?? 0) / Q, z: (p.qz ?? 0) / Q, w: (p.qw ?? 0) / Q },
        sequence_number: p.sequence_number ?? 0,
      });
    }
    return out;
  }
}
