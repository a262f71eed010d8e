/**
 * First-message authentication, for clients that cannot put a token in the URL or a header:
 * the upgrade is accepted, but the connection sees and sends nothing until its first message —
 * a CLIENT_HELLO with `auth_token` — has been verified (within AUTH_TIMEOUT_MS, enforced by the
 * keepalive sweep). Frames that arrive while the token is checked wait, in order.
 * @module
 */
import type { AuthPolicy } from "../auth/policy.ts";
import { CloseCode, ErrorCode } from "../errors.ts";
import { parseBinary, parseText } from "../protocol/codec.ts";
import type { Envelope } from "../protocol/types.ts";
import type { Connection } from "./connection.ts";
import type { Hub } from "./hub.ts";
import type { Frame } from "./transport.ts";
import { isXrFrame } from "../protocol/xr.ts";
import { becomeXr } from "./xr-format.ts";

/** Frames a pending connection may send before its token is checked; more is abuse. */
const MAX_WAITING = 32;

export class FirstAuth {
  readonly #waiting = new WeakMap<Connection, Frame[]>();
  constructor(readonly hub: Hub, readonly policy: AuthPolicy) {}

  /** A frame from a pending connection. */
  message(conn: Connection, frame: Frame): void {
    const waiting = this.#waiting.get(conn);
    if (waiting) {
      if (waiting.push(frame) > MAX_WAITING) this.hub.closeWith(conn, CloseCode.POLICY, ErrorCode.UNAUTHORIZED, "Too many messages before authentication");
      return;
    }
    const hello = this.#hello(frame);
    // compat (issue 15): a JSON connection whose first frame is an xr frame is xr (xr-format.ts).
    if (conn.format === "json" && typeof frame !== "string" && isXrFrame(frame)) becomeXr(this.hub, conn);
    const token = hello?.client_hello?.auth_token;
    if (!hello || !token) {
      return this.hub.closeWith(conn, CloseCode.UNAUTHORIZED, ErrorCode.UNAUTHORIZED, "Authenticate first: send CLIENT_HELLO with auth_token");
    }
    this.#waiting.set(conn, []);
    const claimed = { userId: conn.userId ?? undefined, clientId: conn.claimedClientId };
    this.policy.check(token, claimed, conn.room.id).then((r) => {
      const queued = this.#waiting.get(conn) ?? [];
      this.#waiting.delete(conn);
      if (conn.isClosed) return;
      if (!r.ok) return this.hub.closeWith(conn, r.closeCode, ErrorCode.UNAUTHORIZED, r.message);
      conn.userId = r.userId;
      if (r.clientId) conn.clientId = r.clientId;
      conn.tokenExp = r.exp ?? 0;
      conn.authDeadline = undefined;
      conn.pending = false;
      if (hello.client_hello?.reliable) conn.reliable = true;
      this.hub.join(conn);
      // The hello itself may carry a display name or avatar; then whatever waited, in order.
      this.hub.route(conn, hello, "json");
      for (const f of queued) if (!conn.isClosed) this.hub.inbound(conn, f);
    });
  }

  #hello(frame: Frame): Envelope | undefined {
    if (typeof frame === "string") {
      const p = parseText(frame);
      return p.kind === "typed" && p.msg.payload === "client_hello" ? p.msg : undefined;
    }
    const p = parseBinary(frame);
    return "msg" in p && p.msg.payload === "client_hello" ? p.msg : undefined;
  }
}
