/** The handler of REFRESH: a fresh token for the same connection. @module */
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
  handle(ctx, _msg, refresh) {
    const { out, conn, ref } = ctx;
    const auth = ctx.services.auth;
    if (auth.mode === "development") return out.error(conn, ErrorCode.BAD_MESSAGE, "This server has no authentication to refresh", ref);
    auth.check(refresh.token ?? "", { clientId: conn.clientId }, conn.room.id).then((r) => {
      if (conn.isClosed) return;
      if (!r.ok && r.status !== 403) return out.error(conn, ErrorCode.UNAUTHORIZED, r.message, ref);
      if (!r.ok) return out.closeWith(conn, CloseCode.FORBIDDEN, ErrorCode.UNAUTHORIZED, r.message);
      if (r.userId !== conn.userId) return out.closeWith(conn, CloseCode.FORBIDDEN, ErrorCode.UNAUTHORIZED, "REFRESH must carry a token for the same user");
      conn.tokenExp = r.exp ?? 0;
    });
  },
};
