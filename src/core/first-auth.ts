/**
 * First-message authentication, for clients that cannot put a token in the URL or a header:
 * the upgrade is accepted, but the connection sees and sends nothing until its first message —
 * a CLIENT_HELLO with `auth_token` — has been verified (within AUTH_TIMEOUT_MS, enforced by the
 * keepalive sweep). Then it joins; the hello itself and the frames that waited are handled once
 * the join has completed, in order (so a display name in the hello is never lost).
 * @module
 */
import type { AuthPolicy } from "../auth/policy.ts";
import { CloseCode, ErrorCode } from "../errors.ts";
import type { Frame } from "../lib/transport.ts";
import { parseBinary, parseText } from "../protocol/codec.ts";
import { isXrFrame } from "../protocol/xr.ts";
import { sanitizeInbound } from "../protocol/sanitize.ts";
import type { Envelope, Format } from "../protocol/types.ts";
import type { Broadcaster } from "./broadcast.ts";
import type { Connection } from "./connection.ts";

/** Frames a pending connection may send before its token is checked; more is abuse. */
const MAX_WAITING = 32;

/** What {@link FirstAuth} needs. */
export interface FirstAuthOptions {
  policy: AuthPolicy;
  out: Broadcaster;
  /** Joins the authenticated connection (frames in `conn.early` are handled after it). */
  join(conn: Connection): void;
  /** Routes the authenticating hello (for its display name, avatar or `reliable`). */
  route(conn: Connection, msg: Envelope, inFormat: Format, ref: string): void;
  /** A JSON connection whose first frame is an xr frame becomes xr (core/xr-format.ts). */
  becomeXr(conn: Connection): void;
}

/** Authenticates connections by their first message. */
export class FirstAuth {
  readonly #waiting = new WeakMap<Connection, Frame[]>();
  constructor(readonly opts: FirstAuthOptions) {}

  /** A frame from a pending connection. */
  message(conn: Connection, frame: Frame): void {
    const { out } = this.opts;
    const waiting = this.#waiting.get(conn);
    if (waiting) {
      if (waiting.push(frame) > MAX_WAITING) out.closeWith(conn, CloseCode.POLICY, ErrorCode.UNAUTHORIZED, "Too many messages before authentication");
      return;
    }
    const hello = this.#hello(frame);
    if (conn.format === "json" && typeof frame !== "string" && isXrFrame(frame)) this.opts.becomeXr(conn);
    const token = hello?.client_hello?.auth_token;
    if (!hello || !token) return out.closeWith(conn, CloseCode.UNAUTHORIZED, ErrorCode.UNAUTHORIZED, "Authenticate first: send CLIENT_HELLO with auth_token");
    this.#waiting.set(conn, []);
    const claimed = { userId: conn.userId ?? undefined, clientId: conn.claimedClientId };
    this.opts.policy.check(token, claimed, conn.room.id).then((r) => {
      const queued = this.#waiting.get(conn) ?? [];
      this.#waiting.delete(conn);
      if (conn.isClosed) return;
      if (!r.ok) return out.closeWith(conn, r.closeCode, ErrorCode.UNAUTHORIZED, r.message);
      conn.userId = r.userId;
      if (r.clientId) conn.clientId = r.clientId;
      conn.tokenExp = r.exp ?? 0;
      conn.authDeadline = undefined;
      conn.pending = false;
      if (hello.client_hello?.reliable) conn.reliable = true;
      hello.client_hello!.auth_token = "";
      if (hello.client_hello) hello.client_hello.reliable = false; // already applied
      const ref = sanitizeInbound(hello);
      const format: Format = conn.format === "xr" ? "xr" : typeof frame === "string" ? "json" : "protobuf";
      conn.early = [() => this.opts.route(conn, hello, format, ref), ...queued];
      this.opts.join(conn);
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
