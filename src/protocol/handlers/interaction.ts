import { hold, holdCount, holderOf, unhold } from "../../core/holds.ts";
import { ErrorCode } from "../../errors.ts";
import type { HandlerContext, MessageHandler } from "../router.ts";
import type { Envelope } from "../types.ts";

/**
 * EMOJI_REACTION: a momentary effect, relayed at once and never retried (like voice). The server
 * stamps `from_client_id` and `timestamp`; an empty `reaction_id` gets the message id.
 */
export const emojiHandler: MessageHandler<"emoji_reaction"> = {
  kind: "emoji_reaction",
  handle(ctx, msg, e) {
    if (!e.emoji) return ctx.hub.sendError(ctx.conn, ErrorCode.BAD_MESSAGE, "emoji is required", msg.message_id);
    e.from_client_id = ctx.conn.clientId;
    e.timestamp = ctx.now;
    if (!e.reaction_id) e.reaction_id = msg.message_id || ctx.hub.nextMessageId();
    ctx.hub.broadcast(ctx.room, msg, { except: ctx.conn, reliable: false });
  },
};

/**
 * The object a grab or release names, with its holder (undefined: nobody) — or `null` after
 * answering BAD_MESSAGE for a missing id.
 */
function objectOf(ctx: HandlerContext, msg: Envelope, id: string | undefined): { id: string; holder?: string } | null {
  if (!id) {
    ctx.hub.sendError(ctx.conn, ErrorCode.BAD_MESSAGE, "entity_id is required", msg.message_id);
    return null;
  }
  return { id, holder: holderOf(ctx.room.world, id) };
}

/** Stamps the holder and time, then tells the room (reliably). */
function relay(ctx: HandlerContext, msg: Envelope, m: { client_id?: string; timestamp?: number }): void {
  m.client_id = ctx.conn.clientId;
  m.timestamp = ctx.now;
  ctx.hub.broadcast(ctx.room, msg, { except: ctx.conn, reliable: true });
}

/**
 * OBJECT_GRAB: reliable world state. The sender holds the object until it releases it or
 * leaves; a grab of an object someone else holds gets CONFLICT. `client_id` and `timestamp`
 * are stamped. At most MAX_ENTITIES_PER_ROOM objects are held in a room at once.
 */
export const objectGrabHandler: MessageHandler<"object_grab"> = {
  kind: "object_grab",
  handle(ctx, msg, g) {
    const { hub, conn, room } = ctx;
    const o = objectOf(ctx, msg, g.entity_id);
    if (!o) return;
    if (o.holder && o.holder !== conn.clientId) return hub.sendError(conn, ErrorCode.CONFLICT, `Object ${o.id} is held by ${o.holder}`, msg.message_id);
    if (!o.holder && holdCount(room.world) >= hub.config.maxEntitiesPerRoom) {
      return hub.sendError(conn, ErrorCode.LIMIT_EXCEEDED, `This room already has ${hub.config.maxEntitiesPerRoom} objects held`, msg.message_id);
    }
    hold(room.world, { ...g, client_id: conn.clientId, timestamp: ctx.now }, ctx.now);
    relay(ctx, msg, g);
  },
};

/** OBJECT_RELEASE: reliable; only the holder may release (FORBIDDEN), and only a held object (NOT_FOUND). */
export const objectReleaseHandler: MessageHandler<"object_release"> = {
  kind: "object_release",
  handle(ctx, msg, r) {
    const o = objectOf(ctx, msg, r.entity_id);
    if (!o) return;
    if (!o.holder) return ctx.hub.sendError(ctx.conn, ErrorCode.NOT_FOUND, `Object ${o.id} is not held`, msg.message_id);
    if (o.holder !== ctx.conn.clientId) return ctx.hub.sendError(ctx.conn, ErrorCode.FORBIDDEN, `Object ${o.id} is held by ${o.holder}`, msg.message_id);
    unhold(ctx.room.world, ctx.conn.clientId, o.id, ctx.now);
    relay(ctx, msg, r);
  },
};
