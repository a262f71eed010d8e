import { CloseCode, ErrorCode } from "../../errors.ts";
import type { MessageHandler } from "../router.ts";

/**
 * REFRESH: a new token for the same user, before the current one expires. Valid → the
 * connection's expiry moves to the new token's; invalid → an UNAUTHORIZED error (the
 * connection lives on until the old expiry); another user, or a room the new token does not
 * allow → the connection is closed with 4403.
 */
export const refreshHandler: MessageHandler<"refresh"> = {
  kind: "refresh",
  handle(ctx, msg, refresh) {
    const { hub, conn } = ctx;
    if (hub.auth.mode === "development") {
      return hub.sendError(conn, ErrorCode.BAD_MESSAGE, "This server has no authentication to refresh", msg.message_id);
    }
    hub.auth.check(refresh.token ?? "", { clientId: conn.clientId }, conn.room.id).then((r) => {
      if (conn.isClosed) return;
      if (!r.ok && r.status !== 403) return hub.sendError(conn, ErrorCode.UNAUTHORIZED, r.message, msg.message_id);
      if (!r.ok) return hub.closeWith(conn, CloseCode.FORBIDDEN, ErrorCode.UNAUTHORIZED, r.message);
      if (r.userId !== conn.userId) return hub.closeWith(conn, CloseCode.FORBIDDEN, ErrorCode.UNAUTHORIZED, "REFRESH must carry a token for the same user");
      conn.tokenExp = r.exp ?? 0;
    });
  },
};
