/**
 * The counted size of a room's players and entities (against MAX_ROOM_STATE_BYTES):
 * their strings plus a fixed overhead for poses and framing.
 * @module
 */
import type { Player } from "./world.ts";

/** Bytes counted per entry besides its strings (poses, framing). */
const OVERHEAD = 64;

/** The counted size of an entity (its strings; pose included in the overhead). */
export function entitySize(e: { id: string; template_id: string; components: Record<string, string> }): number {
  let n = OVERHEAD + e.id.length + (e.template_id?.length ?? 0);
  for (const k in e.components) n += k.length + e.components[k]!.length;
  return n;
}

/** The counted size of a player (its strings; pose included in the overhead). */
export function playerSize(p: Player): number {
  const a = p.avatar_config;
  return OVERHEAD + p.client_id.length + (p.user_id?.length ?? 0) + (p.display_name?.length ?? 0) + (p.avatar_url?.length ?? 0) +
    (a ? 32 + (a.body_type?.length ?? 0) + (a.primary_color?.length ?? 0) + (a.secondary_color?.length ?? 0) + (a.custom_model_url?.length ?? 0) : 0);
}
