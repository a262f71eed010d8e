import { ErrorCode } from "../../errors.ts";
import { componentText } from "../components.ts";
import type { HandlerContext, MessageHandler } from "../router.ts";
import type { Envelope } from "../types.ts";

/** The entity a client may change, or `undefined` after answering with the reason. */
function ownedEntity(ctx: HandlerContext, msg: Envelope, id: string | undefined) {
  const { hub, conn, room } = ctx;
  if (!id) return void hub.sendError(conn, ErrorCode.BAD_MESSAGE, "entity_id is required", msg.message_id);
  const entity = room.world.entities.get(id);
  if (!entity) return void hub.sendError(conn, ErrorCode.NOT_FOUND, `No entity ${id} in this room`, msg.message_id);
  if (entity.owner_id !== conn.clientId) {
    return void hub.sendError(conn, ErrorCode.FORBIDDEN, `Entity ${id} belongs to another client`, msg.message_id);
  }
  return entity;
}

/** ENTITY_SPAWN: reliable; the sender becomes the owner (`owner_id` is stamped). */
export const entitySpawnHandler: MessageHandler<"entity_spawn"> = {
  kind: "entity_spawn",
  handle(ctx, msg, spawn) {
    const { hub, conn, room } = ctx;
    const world = room.world;
    if (!spawn.entity_id) return hub.sendError(conn, ErrorCode.BAD_MESSAGE, "entity_id is required", msg.message_id);
    if (world.entities.has(spawn.entity_id)) {
      return hub.sendError(conn, ErrorCode.CONFLICT, `Entity ${spawn.entity_id} already exists`, msg.message_id);
    }
    if (world.entities.size >= hub.config.maxEntitiesPerRoom) {
      return hub.sendError(conn, ErrorCode.LIMIT_EXCEEDED, `This room already has ${world.entities.size} entities`, msg.message_id);
    }
    spawn.owner_id = conn.clientId;
    world.spawn({ id: spawn.entity_id, template_id: spawn.template_id ?? "", owner_id: conn.clientId, components: { ...spawn.components } }, ctx.now);
    hub.broadcast(room, msg, { except: conn, reliable: true });
  },
};

/** ENTITY_UPDATE: reliable, owner only; components merge into the room's copy. */
export const entityUpdateHandler: MessageHandler<"entity_update"> = {
  kind: "entity_update",
  handle(ctx, msg, update) {
    const entity = ownedEntity(ctx, msg, update.entity_id);
    if (!entity) return;
    const components: Record<string, string> = {};
    for (const [k, v] of Object.entries(update.components ?? {})) components[k] = componentText(v);
    ctx.room.world.updateEntity(entity.id, { components }, ctx.now);
    ctx.hub.broadcast(ctx.room, msg, { except: ctx.conn, reliable: true });
  },
};

/** ENTITY_DESPAWN: reliable, owner only. */
export const entityDespawnHandler: MessageHandler<"entity_despawn"> = {
  kind: "entity_despawn",
  handle(ctx, msg, despawn) {
    const entity = ownedEntity(ctx, msg, despawn.entity_id);
    if (!entity) return;
    ctx.room.world.despawn(entity.id, ctx.now);
    ctx.hub.broadcast(ctx.room, msg, { except: ctx.conn, reliable: true });
  },
};
