import { Hono, type Context } from "hono";
import type { UpgradeWebSocket, WSContext, WSEvents } from "hono/ws";
import type { Hub } from "../core/hub.ts";
import { globalStats, roomStats } from "../core/stats.ts";
import type { Identity } from "../core/connection.ts";
import type { Format } from "../core/room.ts";
import type { ConnectionHandle, Transport } from "../core/transport.ts";
import { SERVER_VERSION } from "../version.ts";
import { checkId, checkRoomId } from "./validate.ts";

/** The WebSocket events the app hands to Hono, plus the connection's handle once open. */
export interface CoreEvents extends WSEvents<unknown> {
  /** Set in `onOpen`; adapters on hot paths may call it directly instead of the events. */
  handle?: ConnectionHandle;
}

/** What the app needs from the runtime adapter. */
export interface AppOptions {
  hub: Hub;
  /** Hono's upgrade helper for this runtime (`hono/bun`, `hono/deno`, `@hono/node-ws`). */
  upgradeWebSocket: UpgradeWebSocket<unknown>;
  /** Makes the one {@link Transport} of a raw socket (`WSContext.raw`). Called once per socket. */
  transportOf: (raw: unknown) => Transport;
  /** Runtime name for `/health`. */
  runtime: string;
}

const jsonError = (c: Context, status: number, error: string, message: string) =>
  c.json({ error, message }, status as 400);

/** Builds the Hono app: WebSocket upgrade, stats, metrics and health endpoints. */
export function createApp(opts: AppOptions): Hono {
  const { hub } = opts;
  const app = new Hono();

  app.get("/health", (c) =>
    c.json({
      status: "healthy",
      uptime_s: Math.round((hub.clock.now() - hub.metrics.startedAt) / 1000),
      version: SERVER_VERSION,
      runtime: opts.runtime,
      connections: hub.connections.size,
    }));

  app.get("/metrics", (c) =>
    c.json({
      report: hub.metrics.report(hub.clock.now(), hub.rooms.size),
      timestamp: new Date(hub.clock.now()).toISOString(),
    }));

  app.get("/ws/:room/stats", (c) => {
    const room = c.req.param("room");
    const bad = checkRoomId(room);
    if (bad) return jsonError(c, 400, "bad_request", bad);
    return c.json(roomStats(hub, room));
  });

  app.get("/ws/:room", async (c): Promise<Response> => {
    const room = c.req.param("room");
    const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
    // `/ws/stats` is the global stats endpoint for plain GETs; an upgrade joins a room named "stats".
    if (room === "stats" && !upgrade) return c.json(globalStats(hub));
    if (!upgrade) return jsonError(c, 426, "upgrade_required", "This endpoint only accepts WebSocket upgrades");
    const identity = admit(c, room);
    if ("status" in identity) return jsonError(c, identity.status, identity.error, identity.message);
    return opts.upgradeWebSocket(c, connectionEvents(opts, identity));
  });

  app.notFound((c) => jsonError(c, 404, "not_found", `No route for ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    hub.log.error("http_error", { path: c.req.path, message: err.message });
    return jsonError(c, 500, "internal", "Internal server error");
  });
  return app;
}

type Rejection = { status: number; error: string; message: string };

/** Checks the upgrade request and settles the connection's identity. */
function admit(c: Context, room: string): Identity | Rejection {
  const userId = c.req.query("user_id");
  const clientId = c.req.query("client_id");
  const displayName = c.req.query("display_name");
  const bad = checkRoomId(room) ?? checkId("user_id", userId) ?? checkId("client_id", clientId) ??
    (displayName !== undefined && displayName.length > 128 ? "display_name must be at most 128 characters" : null);
  if (bad) return { status: 400, error: "bad_request", message: bad };
  const format = chooseFormat(c);
  if (!format) return { status: 400, error: "bad_request", message: "format must be json or protobuf" };
  return { roomId: room, userId: userId ?? null, clientId: clientId ?? crypto.randomUUID(), format, displayName };
}

/**
 * The output format: the first offered subprotocol when it is `json` or `protobuf` (the runtime
 * echoes the first offered one), else `?format=`, else JSON.
 */
function chooseFormat(c: Context): Format | undefined {
  const first = c.req.header("sec-websocket-protocol")?.split(",")[0]?.trim();
  if (first === "json" || first === "protobuf") return first;
  const q = c.req.query("format");
  if (q === undefined || q === "json" || q === "protobuf") return q ?? "json";
  return undefined;
}

/** The per-connection events: a closure over the handle, no wrapper made per event. */
function connectionEvents(opts: AppOptions, identity: Identity): CoreEvents {
  const events: CoreEvents = {
    onOpen(_evt: Event, ws: WSContext<unknown>) {
      events.handle = opts.hub.open(identity, opts.transportOf(ws.raw));
    },
    onMessage(evt: MessageEvent, _ws: WSContext<unknown>) {
      const data = evt.data;
      events.handle?.message(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
    },
    onClose(evt: CloseEvent) {
      events.handle?.closed(evt.code, evt.reason);
    },
  };
  return events;
}
