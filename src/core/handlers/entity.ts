/** The handler of ENTITY_SPAWN, ENTITY_UPDATE, ENTITY_DESPAWN: owner-checked, within the world's limits. @module */
import { ErrorCode } from "../../errors.ts";
import { componentText } from "../../protocol/components.ts";
import type { Entity } from "../world.ts";
import type { HandlerContext, MessageHandler } from "../router.ts";

/** The entity a client may change, or `undefined` after answering with the reason. */
function ownedEntity(ctx: HandlerContext, id: string | undefined): Entity | undefined {
  const { out, conn, room, ref } = ctx;
  if (!id) return void out.error(conn, ErrorCode.BAD_MESSAGE, "entity_id is required", ref);
  const entity = room.world.entities.get(id);
  if (!entity) return void out.error(conn, ErrorCode.NOT_FOUND, `No entity ${id} in this room`, ref);
  if (entity.owner_id !== conn.clientId) return void out.error(conn, ErrorCode.FORBIDDEN, `Entity ${id} belongs to another client`, ref);
  return entity;
}

/** ENTITY_SPAWN: reliable; the sender becomes the owner (`owner_id` is stamped). Bounded by the world's limits. */
export const entitySpawnHandler: MessageHandler<"entity_spawn"> = {
  kind: "entity_spawn",
  handle(ctx, msg, spawn) {
    const { out, conn, room, ref } = ctx;
    const world = room.world;
    if (!spawn.entity_id) return out.error(conn, ErrorCode.BAD_MESSAGE, "entity_id is required", ref);
    if (world.entities.has(spawn.entity_id)) return out.error(conn, ErrorCode.CONFLICT, `Entity ${spawn.entity_id} already exists`, ref);
    const e: Entity = { id: spawn.entity_id, template_id: spawn.template_id ?? "", owner_id: conn.clientId, components: { ...spawn.components } };
    const why = world.check(e);
    if (why) return out.error(conn, ErrorCode.LIMIT_EXCEEDED, why, ref);
    spawn.owner_id = conn.clientId;
    world.spawn(e, ctx.now);
    out.reliable(room, msg, { sender: conn, ref, change: { entities: ctx.services.replication.entities([e]) } });
  },
};

/** ENTITY_UPDATE: reliable, owner only; components merge into the room's copy (within the limits). */
export const entityUpdateHandler: MessageHandler<"entity_update"> = {
  kind: "entity_update",
  handle(ctx, msg, update) {
    const entity = ownedEntity(ctx, update.entity_id);
    if (!entity) return;
    const components: Record<string, string> = {};
    for (const [k, v] of Object.entries(update.components ?? {})) components[k] = componentText(v);
    const why = ctx.room.world.check({ ...entity, components: { ...entity.components, ...components } }, entity);
    if (why) return ctx.out.error(ctx.conn, ErrorCode.LIMIT_EXCEEDED, why, ctx.ref);
    ctx.room.world.updateEntity(entity.id, { components }, ctx.now);
    ctx.out.reliable(ctx.room, msg, { sender: ctx.conn, ref: ctx.ref, change: { entities: ctx.services.replication.entities([entity]) } });
  },
};

/** ENTITY_DESPAWN: reliable, owner only. */
export const entityDespawnHandler: MessageHandler<"entity_despawn"> = {
  kind: "entity_despawn",
  handle(ctx, msg, despawn) {
    const entity = ownedEntity(ctx, despawn.entity_id);
    if (!entity) return;
    ctx.room.world.despawn(entity.id, ctx.now);
    ctx.out.reliable(ctx.room, msg, { sender: ctx.conn, ref: ctx.ref, change: { despawn: [entity.id] } });
  },
};
