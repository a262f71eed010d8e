/**
 * Who holds which object (OBJECT_GRAB / OBJECT_RELEASE). A hold lives in its holder's player
 * entry (`holding`), so it is shared with the other instances and late joiners exactly like the
 * player (stored snapshot, SERVER_HELLO `initial_state.players[].holding`) and it ends when the
 * holder leaves. Object ids are any ids the clients agree on (spawned entities or scene objects).
 * @module
 */
import { MessageType, type Envelope, type ObjectGrab } from "../protocol/types.ts";
import type { Player, World } from "./world.ts";

/** The client holding `objectId`, if any. */
export function holderOf(world: World, objectId: string): string | undefined {
  for (const p of world.players.values()) if (p.holding?.some((h) => h.entity_id === objectId)) return p.client_id;
  return undefined;
}

/** How many objects are held in the room. */
export function holdCount(world: World): number {
  let n = 0;
  for (const p of world.players.values()) n += p.holding?.length ?? 0;
  return n;
}

/** Records (or refreshes) `grab` as held by its `client_id`. */
export function hold(world: World, grab: ObjectGrab, now: number): void {
  const p = world.players.get(grab.client_id ?? "");
  if (!p) return;
  const rest = (p.holding ?? []).filter((h) => h.entity_id !== grab.entity_id);
  world.updatePlayer(p.client_id, { holding: [...rest, { ...grab }] }, now);
}

/** Ends the hold of `objectId` by `clientId`; returns whether there was one. */
export function unhold(world: World, clientId: string, objectId: string, now: number): boolean {
  const p = world.players.get(clientId);
  if (!p?.holding?.some((h) => h.entity_id === objectId)) return false;
  world.updatePlayer(clientId, { holding: p.holding.filter((h) => h.entity_id !== objectId) }, now);
  return true;
}

/** The OBJECT_RELEASE messages for everything `players` held (sent when they leave). */
export function releasesOf(players: readonly Player[], now: number): Envelope[] {
  const out: Envelope[] = [];
  for (const p of players) {
    for (const h of p.holding ?? []) {
      out.push({
        type: MessageType.OBJECT_RELEASE,
        payload: "object_release",
        object_release: { entity_id: h.entity_id, client_id: p.client_id, position: h.position, velocity: { x: 0, y: 0, z: 0 }, timestamp: now },
      });
    }
  }
  return out;
}
