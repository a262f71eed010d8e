import { ErrorCode } from "../../errors.ts";
import { ChatType } from "../types.ts";
import type { MessageHandler } from "../router.ts";

/**
 * CHAT_MESSAGE: reliable. The server stamps `from_client_id` (a forged one is overwritten) and
 * the chat timestamp when the client left it 0. A WHISPER goes only to `to_client_id`.
 */
export const chatHandler: MessageHandler<"chat_message"> = {
  kind: "chat_message",
  handle(ctx, msg, chat) {
    const { conn, room, hub } = ctx;
    chat.from_client_id = conn.clientId;
    if (!chat.timestamp) chat.timestamp = ctx.now;
    if (chat.type === ChatType.WHISPER) {
      const to = chat.to_client_id;
      if (!to) return hub.sendError(conn, ErrorCode.BAD_MESSAGE, "A WHISPER needs to_client_id", msg.message_id);
      if (!room.world.players.has(to)) return hub.sendError(conn, ErrorCode.NOT_FOUND, `No client ${to} in this room`, msg.message_id);
      hub.broadcast(room, msg, { except: conn, reliable: true, onlyClient: to });
      return;
    }
    hub.broadcast(room, msg, { except: conn, reliable: true });
  },
};
