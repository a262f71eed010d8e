/** Telling a room that clients left for good. @module */
import { MessageType, PresenceEventType } from "../protocol/types.ts";
import type { Hub } from "./hub.ts";
import type { Room } from "./room.ts";

/**
 * Removes the entities and players from the room's world and broadcasts ENTITY_DESPAWN for each
 * entity, then PRESENCE_LEAVE for each client — reliably, so every instance and every resumed
 * client hears it.
 */
export function announceDepartures(hub: Hub, room: Room, clientIds: readonly string[], entityIds: readonly string[]): void {
  const now = hub.clock.now();
  for (const id of entityIds) {
    room.world.despawn(id, now);
    hub.broadcast(room, { type: MessageType.ENTITY_DESPAWN, payload: "entity_despawn", entity_despawn: { entity_id: id } }, { reliable: true });
  }
  for (const id of clientIds) {
    room.world.players.delete(id);
    hub.broadcast(room, {
      type: MessageType.PRESENCE_LEAVE,
      payload: "presence_event",
      presence_event: { client_id: id, event_type: PresenceEventType.LEAVE },
    }, { reliable: true });
  }
}
