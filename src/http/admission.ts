/**
 * Admission: everything checked before a WebSocket upgrade, cheapest first — ids, format,
 * origin, connection rate per IP, capacity, then the token. A rejection is an HTTP status with
 * a JSON body; nothing is upgraded.
 * @module
 */
import type { Context } from "hono";
import type { AuthPolicy } from "../auth/policy.ts";
import { tokenFrom } from "../auth/request.ts";
import type { Config } from "../config.ts";
import type { Capacity, Reservation } from "../core/capacity.ts";
import type { Identity } from "../core/connection.ts";
import type { ConnectLimiter } from "../limits/index.ts";
import type { Logger } from "../log.ts";
import type { Format } from "../protocol/types.ts";
import { checkId, checkRoomId } from "./validate.ts";

/** Why an upgrade was refused. */
export interface Rejection {
  status: number;
  error: string;
  message: string;
  headers?: Record<string, string>;
}

/** What admission reads of the server. */
export interface Gateway {
  readonly config: Config;
  readonly auth: AuthPolicy;
  readonly log: Logger;
  /** Set while draining: upgrades are refused. */
  readonly draining: boolean;
  readonly connectLimiter: ConnectLimiter;
  readonly capacity: Capacity;
  /** Counts a refused connection attempt (per-IP limit). */
  connectRefused(): void;
  /** Whether this instance knows that another user holds `clientId` in `room`. */
  heldByOther(room: string, clientId: string, userId: string | null): boolean;
  /** Why moderation refuses the join (a locked room: 423; a recently kicked client id: 403), if it does. */
  moderationRefusal(room: string, clientId: string | undefined, resuming: boolean): Promise<Rejection | undefined>;
}

/** What admission needs. */
export interface AdmissionDeps {
  gateway: Gateway;
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
  const hub = deps.gateway;
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
  const batchQ = c.req.query("batch");
  if (batchQ !== undefined && !["0", "1", "true", "false"].includes(batchQ)) return reject(400, "bad_request", "batch must be 1 or 0");
  const batch = batchQ === "1" || batchQ === "true";
  if (format === "xr" && delivery.reliable) return reject(400, "bad_request", "ack and resume need the json or protobuf format (xr frames carry no seq)");
  const origin = c.req.header("origin");
  const auth = hub.auth;
  if (origin !== undefined && !originAllowed(origin, cfg.allowedOrigins, auth.mode !== "development", c.req.url)) {
    return reject(403, "forbidden", `Origin ${origin.slice(0, 100)} is not allowed`);
  }
  const attempt = hub.connectLimiter.attempt(clientIp(c, cfg.trustProxy, deps.remoteAddress));
  if (!attempt.ok) {
    hub.connectRefused();
    return reject(429, "rate_limited", "Too many connection attempts from this address", { "Retry-After": String(attempt.retryAfterSec) });
  }
  // The place is reserved before the (asynchronous) token check, so concurrent upgrades cannot overshoot the caps.
  const slot = hub.capacity.reserve(room);
  if (slot === "over_capacity") return reject(503, "over_capacity", "This server has reached MAX_CONNECTIONS; try another instance or later", { "Retry-After": "5" });
  if (slot === "room_full") return reject(503, "room_full", `Room ${room} has reached MAX_ROOM_CONNECTIONS`, { "Retry-After": "5" });
  const r = await settle(hub, room, userId, clientId, tokenFrom(c.req), delivery.resume !== undefined).catch((e: Error) => reject(500, "internal", e.message));
  if ("status" in r) {
    slot.release();
    return r;
  }
  // From here the connection holds the place until it has joined (or closed). One literal with
  // every field: spreading `r` and `delivery` into it made a ~0.5 KB object per upgrade, promoted
  // to the old generation while the socket opens (memory per connection, issue 14).
  const s = r as Settled;
  return {
    roomId: room, userId: s.userId, clientId: s.clientId, format, displayName, pendingAuth: s.pendingAuth, tokenExp: s.tokenExp,
    claimedClientId: s.claimedClientId, reliable: delivery.reliable, resume: delivery.resume, batch, slot,
  };
}

/** Who the request may connect as. */
type Settled = Pick<Identity, "userId" | "clientId" | "claimedClientId" | "pendingAuth" | "tokenExp">;

/** Who the request may connect as, or why not. */
async function settle(hub: Gateway, room: string, userId: string | undefined, clientId: string | undefined, token: string | undefined, resuming: boolean): Promise<Settled | Rejection> {
  const claimed = { userId, clientId };
  const r = token !== undefined ? await hub.auth.check(token, claimed, room) : hub.auth.withoutToken(claimed);
  if (r !== null && !r.ok) return reject(r.status, r.error, r.message, r.status === 503 ? { "Retry-After": "5" } : undefined);
  const id = r?.clientId ?? clientId;
  const refused = await hub.moderationRefusal(room, id, resuming);
  if (refused) return refused;
  if (r === null) {
    // No token with the request: the first message must carry one (CLIENT_HELLO.auth_token).
    return { userId: null, clientId: clientId ?? crypto.randomUUID(), claimedClientId: clientId, pendingAuth: true };
  }
  const held = id ?? crypto.randomUUID();
  if (!resuming && hub.heldByOther(room, held, r.userId)) return reject(409, "conflict", `client_id ${held} is held by another user in room ${room}`);
  return { userId: r.userId, clientId: held, tokenExp: r.exp };
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
