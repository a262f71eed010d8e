/** The handler of VOICE_DATA: stamped and relayed, never retried. @module */
import type { MessageHandler } from "../router.ts";

/**
 * VOICE_DATA: relayed at once, never retried; the sender's client id is stamped by the server.
 * A client muted by a moderator is not relayed (and is told so, at most every few seconds).
 */
export const voiceHandler: MessageHandler<"voice_data"> = {
  kind: "voice_data",
  handle(ctx, msg, v) {
    const moderation = ctx.services.moderation;
    if (moderation.isMuted(ctx.room.id, ctx.conn.clientId)) return moderation.mutedVoice(ctx.conn, ctx.ref);
    v.from_client_id = ctx.conn.clientId;
    ctx.out.unreliable(ctx.room, msg, { sender: ctx.conn });
  },
};
