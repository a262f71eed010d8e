import { moderationOf } from "../../core/moderation.ts";
import type { MessageHandler } from "../router.ts";

/**
 * VOICE_DATA: relayed at once, never retried; the sender's client id is stamped by the server.
 * A client muted by a moderator is not relayed (and is told so, at most every few seconds).
 */
export const voiceHandler: MessageHandler<"voice_data"> = {
  kind: "voice_data",
  handle(ctx, msg, v) {
    const moderation = moderationOf(ctx.hub);
    if (moderation.isMuted(ctx.room.id, ctx.conn.clientId)) return moderation.mutedVoice(ctx.conn, msg.message_id);
    v.from_client_id = ctx.conn.clientId;
    ctx.hub.broadcast(ctx.room, msg, { except: ctx.conn, reliable: false });
  },
};
