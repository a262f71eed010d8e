import { ErrorCode } from "../../errors.ts";
import type { MessageHandler } from "../router.ts";

/**
 * POSITION_UPDATE: latest-wins, never retried. A client moves its own avatar (entity id = its
 * client id, the default when empty) or entities it owns; the room remembers the latest pose.
 */
export const positionHandler: MessageHandler<"position_update"> = {
  kind: "position_update",
  handle(ctx, msg, p) {
    const { conn, room, now } = ctx;
    const world = room.world;
    const entityStamped = !p.entity_id;
    const id = (p.entity_id ||= conn.clientId);
    if (id === conn.clientId) {
      world.updatePlayer(conn.clientId, { position: p.position, rotation: p.rotation }, now);
    } else {
      const entity = world.entities.get(id);
      if (!entity) return ctx.hub.sendError(conn, ErrorCode.NOT_FOUND, `No entity ${p.entity_id} in this room`, msg.message_id);
      if (entity.owner_id !== conn.clientId) {
        return ctx.hub.sendError(conn, ErrorCode.FORBIDDEN, `Entity ${p.entity_id} belongs to another client`, msg.message_id);
      }
      world.updateEntity(id, { position: p.position, rotation: p.rotation }, now);
    }
    ctx.hub.broadcast(room, msg, { except: conn, reliable: false, key: id, entityStamped });
  },
};
