/** Telling a room that clients left for good. @module */
import type { Session } from "../delivery/sessions.ts";
import { MessageType, PresenceEventType } from "../protocol/types.ts";
import type { Hub } from "./hub.ts";
import type { Room } from "./room.ts";
import { releasesOf } from "./holds.ts";
import { hostChange, hostOf } from "./host.ts";
import type { Player } from "./world.ts";

/** The client left for good (unless another connection holds its id): the room hears it. */
export function departClient(hub: Hub, room: Room, clientId: string, connectionId: string): void {
  const player = room.world.players.get(clientId); // compat: its holds and host role go with it
  if (room.world.leave(clientId, connectionId, hub.clock.now())) announceDepartures(hub, room, [clientId], room.world.ownedBy(clientId), player && [player]);
}

/**
 * A detached session's window closed: the room finally sees its client leave — unless, in a
 * cluster, the client resumed on another instance meanwhile.
 */
export function expireSession(hub: Hub, s: Session): void {
  const room = hub.rooms.get(s.roomId);
  if (!room) return;
  room.ghosts--;
  const depart = () => {
    const player = room.world.players.get(s.clientId);
    if (player) departClient(hub, room, s.clientId, player.connectionId);
    if (room.empty) hub.closeRoom(room);
  };
  if (!hub.link.opts.shareWorld) return depart();
  hub.link.getSession(s.id).then((r) => {
    if (r && r.node_id !== hub.link.nodeId) {
      // Resumed elsewhere: the player lives on there.
      if (room.empty) hub.closeRoom(room);
      return;
    }
    if (r) hub.link.deleteSession(s.id);
    depart();
  });
}

/**
 * Removes the entities and players from the room's world and broadcasts OBJECT_RELEASE for what
 * they held and ENTITY_DESPAWN for each entity, then PRESENCE_LEAVE for each client (with the
 * host after it), then the new host if it changed — reliably, so every instance and every
 * resumed client hears it. `gone`: the players already taken out of the world (default: looked
 * up by id).
 */
export function announceDepartures(hub: Hub, room: Room, clientIds: readonly string[], entityIds: readonly string[], gone?: Player[]): void {
  const now = hub.clock.now();
  // compat (issue 15): holds end and the host may change with a departure (core/holds.ts, core/host.ts).
  const players = gone ?? clientIds.flatMap((id) => room.world.players.get(id) ?? []);
  const hostBefore = hostOf(room.world, gone ?? []);
  for (const release of releasesOf(players, now)) hub.broadcast(room, release, { reliable: true });
  for (const id of entityIds) {
    room.world.despawn(id, now);
    hub.broadcast(room, { type: MessageType.ENTITY_DESPAWN, payload: "entity_despawn", entity_despawn: { entity_id: id } }, { reliable: true });
  }
  for (const id of clientIds) {
    room.world.players.delete(id);
    hub.broadcast(room, {
      type: MessageType.PRESENCE_LEAVE,
      payload: "presence_event",
      presence_event: { client_id: id, event_type: PresenceEventType.LEAVE, data: { host_client_id: hostOf(room.world) } },
    }, { reliable: true });
  }
  const announce = hostChange(room.world, hostBefore);
  if (announce) hub.broadcast(room, announce, { reliable: true });
}
