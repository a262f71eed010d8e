/** The handler of POSITION_UPDATE: ownership-checked, latest-wins, stamped into the client's bytes. @module */
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
      world.movePlayer(id, p.position, p.rotation, now);
      ctx.services.replication.pose(room, "player", id);
    } else {
      const entity = world.entities.get(id);
      if (!entity) return ctx.out.error(conn, ErrorCode.NOT_FOUND, `No entity ${id} in this room`, ctx.ref);
      if (entity.owner_id !== conn.clientId) return ctx.out.error(conn, ErrorCode.FORBIDDEN, `Entity ${id} belongs to another client`, ctx.ref);
      world.updateEntity(id, { position: p.position, rotation: p.rotation }, now);
      ctx.services.replication.pose(room, "entity", id);
    }
    ctx.out.position(room, msg, conn, id, entityStamped, now);
  },
};
