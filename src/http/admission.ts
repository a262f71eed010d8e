/**
 * Admission: everything checked before a WebSocket upgrade, cheapest first — ids, format,
 * origin, connection rate per IP, capacity, then the token. A rejection is an HTTP status with
 * a JSON body; nothing is upgraded.
 * @module
 */
import type { Context } from "hono";
import type { Identity } from "../core/connection.ts";
import type { Hub } from "../core/hub.ts";
import type { Format } from "../core/room.ts";
import { tokenFrom } from "../auth/request.ts";
import { moderationOf } from "../core/moderation.ts";
import { checkId, checkRoomId } from "./validate.ts";

/** Why an upgrade was refused. */
export interface Rejection {
  status: number;
  error: string;
  message: string;
  headers?: Record<string, string>;
}

/** What admission needs besides the hub (whose `auth` policy decides about tokens). */
export interface AdmissionDeps {
  hub: Hub;
  /** The request's peer address (from the adapter). */
  remoteAddress?: (c: Context) => string | undefined;
}

/** The client's IP: the socket peer, or the first X-Forwarded-For hop behind a trusted proxy. */
export function clientIp(c: Context, trustProxy: boolean, remote?: (c: Context) => string | undefined): string {
  if (trustProxy) {
    const first = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (first) return first;
  }
  return remote?.(c) ?? "unknown";
}

const reject = (status: number, error: string, message: string, headers?: Record<string, string>): Rejection => ({ status, error, message, headers });

/** Decides whether the upgrade request may join `room`, and as whom. */
export async function admit(c: Context, room: string, deps: AdmissionDeps): Promise<Identity | Rejection> {
  const { hub } = deps;
  const cfg = hub.config;
  const userId = c.req.query("user_id");
  const clientId = c.req.query("client_id");
  const displayName = c.req.query("display_name");
  if (hub.draining) return reject(503, "draining", "This server is shutting down; connect to another instance", { "Retry-After": "1" });
  const bad = checkRoomId(room) ?? checkId("user_id", userId) ?? checkId("client_id", clientId) ??
    (displayName !== undefined && displayName.length > 128 ? "display_name must be at most 128 characters" : null);
  if (bad) return reject(400, "bad_request", bad);
  const queryRoom = c.req.query("room_id"); // GraphWiz-XR's client repeats the room in the query
  if (queryRoom !== undefined && queryRoom !== room) return reject(400, "bad_request", "room_id in the query must name the room of the path");
  const delivery = deliveryParams(c);
  if (typeof delivery === "string") return reject(400, "bad_request", delivery);
  const chosen = chooseFormat(c);
  if (!chosen) return reject(400, "bad_request", "format must be json, protobuf or xr");
  const format = chosen;
  if (format === "xr" && delivery.reliable) return reject(400, "bad_request", "ack and resume need the json or protobuf format (xr frames carry no seq)");
  const origin = c.req.header("origin");
  const auth = hub.auth;
  if (origin !== undefined && !originAllowed(origin, cfg.allowedOrigins, auth.mode !== "development", c.req.url)) {
    return reject(403, "forbidden", `Origin ${origin.slice(0, 100)} is not allowed`);
  }
  const attempt = hub.limits.connect.attempt(clientIp(c, cfg.trustProxy, deps.remoteAddress));
  if (!attempt.ok) {
    hub.metrics.rateLimited.connect++;
    return reject(429, "rate_limited", "Too many connection attempts from this address", { "Retry-After": String(attempt.retryAfterSec) });
  }
  if (hub.connections.size >= cfg.maxConnections) {
    return reject(503, "over_capacity", "This server has reached MAX_CONNECTIONS; try another instance or later", { "Retry-After": "5" });
  }
  if ((hub.rooms.get(room)?.members.size ?? 0) >= cfg.maxRoomConnections) {
    return reject(503, "room_full", `Room ${room} has reached MAX_ROOM_CONNECTIONS`, { "Retry-After": "5" });
  }
  const claimed = { userId, clientId };
  const token = tokenFrom(c.req);
  const r = token !== undefined ? await auth.check(token, claimed, room) : auth.withoutToken(claimed);
  if (r !== null && !r.ok) return reject(r.status, r.error, r.message, r.status === 503 ? { "Retry-After": "5" } : undefined);
  const identity: Identity = r === null
    // No token with the request: the first message must carry one (CLIENT_HELLO.auth_token).
    ? { roomId: room, userId: null, clientId: clientId ?? crypto.randomUUID(), claimedClientId: clientId, format, displayName, pendingAuth: true, ...delivery }
    : { roomId: room, userId: r.userId, clientId: r.clientId ?? crypto.randomUUID(), format, displayName, tokenExp: r.exp, ...delivery };
  // compat (issue 15): a locked room (423) or a recently kicked client id (403) does not get in.
  const refused = await moderationOf(hub).admission(room, r === null ? clientId : identity.clientId, delivery.resume !== undefined);
  return refused ? reject(refused.status, refused.error, refused.message) : identity;
}

const SEQ = /^\d{1,15}$/;

/** `?ack=1`, and `?resume=<session_id>&last_seq=<n>[&epoch=<e>]` (resume implies ack). */
function deliveryParams(c: Context): Pick<Identity, "reliable" | "resume"> | string {
  const ack = c.req.query("ack");
  if (ack !== undefined && !["0", "1", "true", "false"].includes(ack)) return "ack must be 1 or 0";
  const sessionId = c.req.query("resume");
  if (sessionId === undefined) return { reliable: ack === "1" || ack === "true" };
  const lastSeq = c.req.query("last_seq") ?? "0";
  const epoch = c.req.query("epoch");
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(sessionId)) return "resume must be a session id";
  if (!SEQ.test(lastSeq)) return "last_seq must be a whole number";
  if (epoch !== undefined && !SEQ.test(epoch)) return "epoch must be a whole number";
  return { reliable: true, resume: { sessionId, lastSeq: Number(lastSeq), epoch: epoch === undefined ? undefined : Number(epoch) } };
}

// Literals, not the request's strings: each connection keeps its format for its lifetime.
const FORMATS: Record<string, Format> = { json: "json", protobuf: "protobuf", xr: "xr" };

/**
 * The output format, in this order: the first offered subprotocol when it is `json`, `protobuf`
 * or `xr` (the runtime echoes the first offered one); else `?format=`; else xr when the query
 * carries `room_id` (GraphWiz-XR's web client does, our clients never need to); else JSON. (A
 * JSON connection whose first frame is an xr frame then becomes xr: core/xr-format.ts.)
 */
function chooseFormat(c: Context): Format | undefined {
  const first = c.req.header("sec-websocket-protocol")?.split(",")[0]?.trim();
  if (first !== undefined && Object.hasOwn(FORMATS, first)) return FORMATS[first];
  const q = c.req.query("format");
  if (q !== undefined) return Object.hasOwn(FORMATS, q) ? FORMATS[q] : undefined;
  return c.req.query("room_id") !== undefined ? "xr" : "json";
}

/**
 * A browser's `Origin` must be listed (or the list holds `*`). With no list: any origin in
 * development mode; with auth on, only the server's own origin — a browser app elsewhere must
 * be listed (protects against cross-site WebSocket hijacking).
 */
export function originAllowed(origin: string, allowed: string[], authenticated: boolean, requestUrl: string): boolean {
  if (allowed.length > 0) return allowed.includes("*") || allowed.includes(origin);
  if (!authenticated) return true;
  try {
    return new URL(origin).host === new URL(requestUrl).host;
  } catch {
    return false;
  }
}
