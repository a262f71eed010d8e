/**
 * GraphWiz-XR's moderation API and room listing:
 *
 * - `POST /moderation/kick`  `{roomId, targetClientId, kickedByClientId, reason?}`
 * - `POST /moderation/mute`  `{roomId, targetClientId, muted, reason?}`
 * - `POST /moderation/lock`  `{roomId, locked, lockedByClientId, reason?}`
 * - `GET /rooms/{id}/clients`
 *
 * Bodies in camelCase (GraphWiz-XR's ModerationClient) or snake_case (its original server);
 * answers `{success, message}` (plus `error` on failure) with the matching HTTP status.
 * Who may moderate: with a JWT key configured, a bearer token whose `moderates` claim matches
 * the room (room patterns, as the `rooms` claim); in development mode the room's host, named
 * by the body (`kickedByClientId`, `lockedByClientId`, `mutedByClientId` — a mute that names
 * nobody is taken as the host's, since GraphWiz-XR's client sends none). Browser calls get CORS
 * following ALLOWED_ORIGINS (as the WebSocket's origin check).
 * @module
 */
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { roomAllowed } from "../auth/claims.ts";
import type { Config } from "../config.ts";
import type { AuthPolicy } from "../auth/policy.ts";
import type { Action, Moderation } from "../core/moderation.ts";
import type { Logger } from "../log.ts";
import { roomStats, type StatsSource } from "../core/stats.ts";
import { originAllowed } from "./admission.ts";
import { checkId, checkRoomId } from "./validate.ts";

/** A failure: status, stable error name, sentence. */
interface Failure {
  status: number;
  error: string;
  message: string;
}
const failure = (status: number, error: string, message: string): Failure => ({ status, error, message });
const answer = (c: Context, f: Failure) => c.json({ success: false, error: f.error, message: f.message }, f.status as 400);

/** Largest request body accepted (bytes). */
const MAX_BODY = 16 * 1024;
const MAX_REASON = 256;

/** The body's field in camelCase or snake_case. */
const field = (b: Record<string, unknown>, camel: string, snake: string): unknown => b[camel] ?? b[snake];

function text(b: Record<string, unknown>, camel: string, snake: string, check: (v: string | undefined) => string | null): string | Failure | undefined {
  const v = field(b, camel, snake);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") return failure(400, "bad_request", `${camel} must be a string`);
  const bad = check(v);
  return bad ? failure(400, "bad_request", bad.replace(/^\w+/, camel)) : v;
}

const isFailure = (v: unknown): v is Failure => typeof v === "object" && v !== null && "status" in v;
const idCheck = (v: string | undefined) => checkId("client_id", v);

/** Reads and checks a moderation body into an Action (plus the client that claims to send it). */
function parseAction(kind: Action["kind"], b: Record<string, unknown>): { action: Action; by?: string } | Failure {
  const roomId = text(b, "roomId", "room_id", (v) => checkRoomId(v ?? ""));
  if (roomId === undefined) return failure(400, "bad_request", "roomId is required");
  if (isFailure(roomId)) return roomId;
  const reason = text(b, "reason", "reason", (v) => ((v ?? "").length > MAX_REASON ? `reason must be at most ${MAX_REASON} characters` : null));
  if (isFailure(reason)) return reason;
  const byField = kind === "kick" ? ["kickedByClientId", "kicked_by_client_id"] : kind === "lock" ? ["lockedByClientId", "locked_by_client_id"] : ["mutedByClientId", "muted_by_client_id"];
  const by = text(b, byField[0], byField[1], idCheck);
  if (isFailure(by)) return by;
  if (by === undefined && kind !== "mute") return failure(400, "bad_request", `${byField[0]} is required`);
  const common = { roomId, by: by ?? "", reason: reason ?? "" };
  if (kind === "lock") {
    const locked = b.locked;
    if (typeof locked !== "boolean") return failure(400, "bad_request", "locked must be true or false");
    return { action: { kind, ...common, locked }, by };
  }
  const target = text(b, "targetClientId", "target_client_id", idCheck);
  if (target === undefined) return failure(400, "bad_request", "targetClientId is required");
  if (isFailure(target)) return target;
  if (kind === "kick") return { action: { kind, ...common, target }, by };
  const muted = b.muted;
  if (typeof muted !== "boolean") return failure(400, "bad_request", "muted must be true or false");
  return { action: { kind, ...common, target, muted }, by };
}

/**
 * Whether the request may moderate `roomId`: a token with a matching `moderates` claim when a
 * key is configured; the room's host (named by `by`, or assumed when unnamed) in development mode.
 */
async function authorize(hub: ModerationServer, c: Context, roomId: string, by: string | undefined): Promise<Failure | undefined> {
  const verifier = hub.auth.verifier;
  if (verifier) {
    const token = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) return failure(401, "unauthorized", "Moderation needs Authorization: Bearer <token> with a moderates claim");
    const r = await verifier.verify(token);
    if (!r.ok) return r.code === "unavailable" ? failure(503, "unavailable", r.reason) : failure(401, "unauthorized", r.reason);
    if (!roomAllowed(r.identity.moderates ?? [], roomId)) return failure(403, "forbidden", `The token does not make its user a moderator of room ${roomId}`);
    return undefined;
  }
  const host = await hub.moderation.host(roomId);
  if (!host) return failure(403, "forbidden", `Room ${roomId} has no host (nobody is in it)`);
  if (by !== undefined && by !== host) return failure(403, "forbidden", `Only the room's host may moderate it in development mode (${by} is not the host)`);
  return undefined;
}

/** One moderation endpoint: body → checks → authorisation → action → `{success, message}`. */
async function moderate(hub: ModerationServer, c: Context, kind: Action["kind"]): Promise<Response> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) return answer(c, failure(415, "unsupported_media_type", "The body must be JSON (Content-Type: application/json)"));
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return answer(c, failure(400, "bad_request", "The body is not valid JSON"));
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return answer(c, failure(400, "bad_request", "The body must be a JSON object"));
  const parsed = parseAction(kind, body as Record<string, unknown>);
  if (isFailure(parsed)) return answer(c, parsed);
  try {
    const denied = await authorize(hub, c, parsed.action.roomId, parsed.by);
    if (denied) return answer(c, denied);
    const done = await hub.moderation.act(parsed.action);
    if (done.status !== 200) return answer(c, failure(done.status, "not_found", done.message));
    return c.json({ success: true, message: done.message });
  } catch (e) {
    hub.log.warn("moderation_failed", { action: kind, message: (e as Error).message });
    return answer(c, failure(503, "unavailable", `Moderation state is unavailable: ${(e as Error).message}`));
  }
}

/** `GET /rooms/{id}/clients`: every client of the room on every instance, with host and mute flags. */
async function roomClients(hub: ModerationServer, roomId: string) {
  const m = hub.moderation;
  const [stats, players, state] = await Promise.all([roomStats(hub.stats, roomId), m.players(roomId), m.state(roomId)]);
  const host = (await m.host(roomId)) || null;
  const clients = stats.connections.map((conn) => ({
    client_id: conn.client_id,
    user_id: conn.user_id,
    display_name: players.get(conn.client_id)?.display_name ?? null,
    connection_id: conn.id,
    node_id: conn.node_id,
    connected_at: conn.connected_at,
    is_host: conn.client_id === host,
    muted: state.muted.has(conn.client_id),
  }));
  return { room_id: roomId, host_client_id: host, locked: state.lock !== undefined, client_count: clients.length, clients };
}

/** What the routes read of the server. */
export interface ModerationServer {
  readonly config: Config;
  readonly auth: AuthPolicy;
  readonly log: Logger;
  readonly moderation: Moderation;
  readonly stats: StatsSource;
}

/** What the routes need from the app: the stats guard (METRICS_TOKEN). */
export interface ModerationRoutesOptions {
  /** Answers 401 when the request may not read room listings; undefined when it may. */
  guard: (c: Context) => Response | undefined;
}

/** Mounts the moderation endpoints, `GET /rooms/{id}/clients` and their CORS handling on `app`. */
export function moderationRoutes(app: Hono, hub: ModerationServer, opts: ModerationRoutesOptions): void {
  const allowed = (origin: string, c: Context) => originAllowed(origin, hub.config.allowedOrigins, hub.auth.mode !== "development", c.req.url);
  const corsMw = cors({
    origin: (origin, c) => (origin && allowed(origin, c) ? origin : null),
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Content-Type", "Authorization"],
    maxAge: 600,
  });
  for (const path of ["/moderation/*", "/rooms/*"]) {
    app.use(path, corsMw);
    app.use(path, async (c, next) => {
      const origin = c.req.header("origin");
      if (origin !== undefined && !allowed(origin, c)) return answer(c, failure(403, "forbidden", `Origin ${origin.slice(0, 100)} is not allowed`));
      await next();
    });
  }
  app.use("/moderation/*", bodyLimit({ maxSize: MAX_BODY, onError: (c) => answer(c, failure(413, "too_large", `The body must be at most ${MAX_BODY} bytes`)) }));
  app.post("/moderation/kick", (c) => moderate(hub, c, "kick"));
  app.post("/moderation/mute", (c) => moderate(hub, c, "mute"));
  app.post("/moderation/lock", (c) => moderate(hub, c, "lock"));
  app.get("/rooms/:room/clients", async (c) => {
    const no = opts.guard(c);
    if (no) return no;
    const room = c.req.param("room");
    const bad = checkRoomId(room);
    if (bad) return c.json({ error: "bad_request", message: bad }, 400);
    return c.json(await roomClients(hub, room));
  });
}
