/** The handlers of EMOJI_REACTION, OBJECT_GRAB and OBJECT_RELEASE: momentary effects and who holds what. @module */
import { ErrorCode } from "../../errors.ts";
import type { Envelope } from "../../protocol/types.ts";
import { hold, holdCount, holderOf, unhold } from "../holds.ts";
import type { HandlerContext, MessageHandler } from "../router.ts";

/**
 * EMOJI_REACTION: a momentary effect, relayed at once and never retried (like voice). The server
 * stamps `from_client_id` and `timestamp`; an empty `reaction_id` gets the client's message id.
 */
export const emojiHandler: MessageHandler<"emoji_reaction"> = {
  kind: "emoji_reaction",
  handle(ctx, msg, e) {
    if (!e.emoji) return ctx.out.error(ctx.conn, ErrorCode.BAD_MESSAGE, "emoji is required", ctx.ref);
    e.from_client_id = ctx.conn.clientId;
    e.timestamp = ctx.now;
    if (!e.reaction_id) e.reaction_id = ctx.ref || `${ctx.conn.clientId}-${ctx.now}`;
    ctx.out.unreliable(ctx.room, msg, { sender: ctx.conn });
  },
};

/** The object a grab or release names, with its holder (undefined: nobody) — or `null` after answering BAD_MESSAGE. */
function objectOf(ctx: HandlerContext, id: string | undefined): { id: string; holder?: string } | null {
  if (!id) {
    ctx.out.error(ctx.conn, ErrorCode.BAD_MESSAGE, "entity_id is required", ctx.ref);
    return null;
  }
  return { id, holder: holderOf(ctx.room.world, id) };
}

/** Stamps the holder and time, then tells the room (reliably, with the holder's player state). */
function relay(ctx: HandlerContext, msg: Envelope, m: { client_id?: string; timestamp?: number }): void {
  m.client_id = ctx.conn.clientId;
  m.timestamp = ctx.now;
  const player = ctx.room.world.players.get(ctx.conn.clientId);
  ctx.out.reliable(ctx.room, msg, { sender: ctx.conn, ref: ctx.ref, change: player ? { players: ctx.services.replication.players([player]) } : undefined });
}

/**
 * OBJECT_GRAB: reliable world state. The sender holds the object until it releases it or
 * leaves; a grab of an object someone else holds gets CONFLICT. `client_id` and `timestamp`
 * are stamped. At most MAX_ENTITIES_PER_ROOM objects are held in a room at once.
 */
export const objectGrabHandler: MessageHandler<"object_grab"> = {
  kind: "object_grab",
  handle(ctx, msg, g) {
    const { out, conn, room } = ctx;
    const o = objectOf(ctx, g.entity_id);
    if (!o) return;
    if (o.holder && o.holder !== conn.clientId) return out.error(conn, ErrorCode.CONFLICT, `Object ${o.id} is held by ${o.holder}`, ctx.ref);
    const max = room.world.limits.entities;
    if (!o.holder && holdCount(room.world) >= max) return out.error(conn, ErrorCode.LIMIT_EXCEEDED, `This room already has ${max} objects held`, ctx.ref);
    hold(room.world, { ...g, client_id: conn.clientId, timestamp: ctx.now }, ctx.now);
    relay(ctx, msg, g);
  },
};

/** OBJECT_RELEASE: reliable; only the holder may release (FORBIDDEN), and only a held object (NOT_FOUND). */
export const objectReleaseHandler: MessageHandler<"object_release"> = {
  kind: "object_release",
  handle(ctx, msg, r) {
    const o = objectOf(ctx, r.entity_id);
    if (!o) return;
    if (!o.holder) return ctx.out.error(ctx.conn, ErrorCode.NOT_FOUND, `Object ${o.id} is not held`, ctx.ref);
    if (o.holder !== ctx.conn.clientId) return ctx.out.error(ctx.conn, ErrorCode.FORBIDDEN, `Object ${o.id} is held by ${o.holder}`, ctx.ref);
    unhold(ctx.room.world, ctx.conn.clientId, o.id, ctx.now);
    relay(ctx, msg, r);
  },
};
