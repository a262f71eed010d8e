/**
 * Frames from other instances: decode once, replay their effect on this instance's copy of the
 * room's world (the origin already checked and applied them), deliver to local members.
 * @module
 */
import { decodeFrame, FrameKind, outboundOf } from "../delivery/frames.ts";
import type { Envelope } from "../protocol/types.ts";
import { MessageType } from "../protocol/types.ts";
import type { Hub } from "./hub.ts";
import type { World } from "./world.ts";
import { componentText } from "./world.ts";
import { hold, unhold } from "./holds.ts";
import { moderationOf } from "./moderation.ts";

/** Replays a remote message on the local world copy, without telling the world's listener. */
export function applyRemote(world: World, msg: Envelope, now: number): void {
  const listener = world.listener;
  world.listener = undefined; // the origin persists its own changes
  try {
    switch (msg.payload) {
      case "position_update": {
        const p = msg.position_update!;
        if (world.players.has(p.entity_id!)) world.updatePlayer(p.entity_id!, { position: p.position, rotation: p.rotation }, now);
        else world.updateEntity(p.entity_id!, { position: p.position, rotation: p.rotation }, now);
        break;
      }
      case "entity_spawn": {
        const s = msg.entity_spawn!;
        world.spawn({ id: s.entity_id!, template_id: s.template_id ?? "", owner_id: s.owner_id ?? "", components: { ...s.components } }, now);
        break;
      }
      case "entity_update": {
        const components: Record<string, string> = {};
        for (const [k, v] of Object.entries(msg.entity_update!.components ?? {})) components[k] = componentText(v);
        world.updateEntity(msg.entity_update!.entity_id!, { components }, now);
        break;
      }
      case "entity_despawn":
        world.despawn(msg.entity_despawn!.entity_id!, now);
        break;
      case "presence_event": {
        const ev = msg.presence_event!;
        const id = ev.client_id!;
        if (msg.type === MessageType.PRESENCE_LEAVE) world.players.delete(id);
        else if (msg.type === MessageType.PRESENCE_JOIN && !world.players.has(id)) {
          world.join({ client_id: id, display_name: ev.data?.display_name, connectionId: "", joined_at: ev.data?.joined_at }, now);
        } else world.updatePlayer(id, { ...ev.data }, now);
        break;
      }
      // compat (issue 15): holds live in the holder's player entry (core/holds.ts).
      case "object_grab":
        hold(world, msg.object_grab!, now);
        break;
      case "object_release":
        unhold(world, msg.object_release!.client_id ?? "", msg.object_release!.entity_id ?? "", now);
        break;
    }
  } finally {
    world.listener = listener;
  }
}

/** A frame another instance published to `roomId`: world replay, then local delivery. */
export function remoteFrame(hub: Hub, roomId: string, frame: Uint8Array): void {
  const room = hub.rooms.get(roomId);
  if (!room) return;
  let f;
  try {
    f = decodeFrame(frame);
  } catch {
    hub.log.warn("bus_frame_invalid", { room: roomId });
    return;
  }
  if (f.kind === FrameKind.RawText) {
    const text = new TextDecoder().decode(f.payload);
    return hub.delivery.ordered(room, () => hub.delivery.deliver(room, text, f));
  }
  let out;
  try {
    out = outboundOf(f.payload);
  } catch {
    hub.log.warn("bus_frame_invalid", { room: roomId });
    return;
  }
  const msg = out.msg;
  const run = () => {
    applyRemote(room.world, msg, hub.clock.now());
    if (msg.payload === "moderation") moderationOf(hub).applied(room, msg.moderation!); // compat (issue 15)
    hub.delivery.deliver(room, out, f, undefined, msg.position_update?.entity_id);
  };
  // Reliable entries in room-sequence order; the rest after this instance's pending appends.
  if (msg.seq) hub.delivery.inOrder.accept(room, msg.epoch ?? 0, msg.seq, run);
  else hub.delivery.ordered(room, run);
}
