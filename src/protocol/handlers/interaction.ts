import { hold, holdCount, holderOf, unhold } from "../../core/holds.ts";
import { ErrorCode } from "../../errors.ts";
import type { MessageHandler } from "../router.ts";

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
 * OBJECT_GRAB: reliable world state. The sender holds the object until it releases it or
 * leaves; a grab of an object someone else holds gets CONFLICT. `client_id` and `timestamp`
 * are stamped. At most MAX_ENTITIES_PER_ROOM objects are held in a room at once.
 */
export const objectGrabHandler: MessageHandler<"object_grab"> = {
  kind: "object_grab",
  handle(ctx, msg, g) {
    const { hub, conn, room } = ctx;
    const id = g.entity_id;
    if (!id) return hub.sendError(conn, ErrorCode.BAD_MESSAGE, "entity_id is required", msg.message_id);
    const holder = holderOf(room.world, id);
    if (holder && holder !== conn.clientId) return hub.sendError(conn, ErrorCode.CONFLICT, `Object ${id} is held by ${holder}`, msg.message_id);
    if (!holder && holdCount(room.world) >= hub.config.maxEntitiesPerRoom) {
      return hub.sendError(conn, ErrorCode.LIMIT_EXCEEDED, `This room already has ${hub.config.maxEntitiesPerRoom} objects held`, msg.message_id);
    }
    g.client_id = conn.clientId;
    g.timestamp = ctx.now;
    hold(room.world, g, ctx.now);
    hub.broadcast(room, msg, { except: conn, reliable: true });
  },
};

/** OBJECT_RELEASE: reliable; only the holder may release (FORBIDDEN), and only a held object (NOT_FOUND). */
export const objectReleaseHandler: MessageHandler<"object_release"> = {
  kind: "object_release",
  handle(ctx, msg, r) {
    const { hub, conn, room } = ctx;
    const id = r.entity_id;
    if (!id) return hub.sendError(conn, ErrorCode.BAD_MESSAGE, "entity_id is required", msg.message_id);
    const holder = holderOf(room.world, id);
    if (!holder) return hub.sendError(conn, ErrorCode.NOT_FOUND, `Object ${id} is not held`, msg.message_id);
    if (holder !== conn.clientId) return hub.sendError(conn, ErrorCode.FORBIDDEN, `Object ${id} is held by ${holder}`, msg.message_id);
    r.client_id = conn.clientId;
    r.timestamp = ctx.now;
    unhold(room.world, conn.clientId, id, ctx.now);
    hub.broadcast(room, msg, { except: conn, reliable: true });
  },
};
