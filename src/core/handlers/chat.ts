/** The handler of CHAT_MESSAGE and whispers: reliable, sender stamped. @module */
import { ErrorCode } from "../../errors.ts";
import { ChatType } from "../../protocol/types.ts";
import type { MessageHandler } from "../router.ts";

/**
 * CHAT_MESSAGE: reliable. The server stamps `from_client_id` and the chat's `timestamp`
 * (whatever the client wrote). A WHISPER goes only to `to_client_id`.
 */
export const chatHandler: MessageHandler<"chat_message"> = {
  kind: "chat_message",
  handle(ctx, msg, chat) {
    const { conn, room, out, ref } = ctx;
    chat.from_client_id = conn.clientId;
    chat.timestamp = ctx.now;
    if (chat.type === ChatType.WHISPER) {
      const to = chat.to_client_id;
      if (!to) return out.error(conn, ErrorCode.BAD_MESSAGE, "A WHISPER needs to_client_id", ref);
      if (!room.world.players.has(to)) return out.error(conn, ErrorCode.NOT_FOUND, `No client ${to} in this room`, ref);
      return out.reliable(room, msg, { sender: conn, ref, only: to, now: ctx.now });
    }
    out.reliable(room, msg, { sender: conn, ref, now: ctx.now });
  },
};
