import { Hono, type Context } from "hono";
import type { UpgradeWebSocket, WSContext, WSEvents } from "hono/ws";
import type { Hub } from "../core/hub.ts";
import { globalStats, roomStats } from "../core/stats.ts";
import type { Identity } from "../core/connection.ts";
import type { ConnectionHandle, Transport } from "../core/transport.ts";
import { SERVER_VERSION } from "../version.ts";
import { admit } from "./admission.ts";
import { checkRoomId } from "./validate.ts";

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
  /** Extra options for the runtime's upgrade (Deno: `idleTimeout`). */
  upgradeOptions?: unknown;
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
      auth: hub.auth.mode,
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
    const identity = await admit(c, room, { hub });
    if ("status" in identity) {
      hub.log.info("upgrade_rejected", { room, status: identity.status, reason: identity.message });
      return c.json({ error: identity.error, message: identity.message }, identity.status as 400, identity.headers);
    }
    return opts.upgradeWebSocket(c, connectionEvents(opts, identity), opts.upgradeOptions as never);
  });

  app.notFound((c) => jsonError(c, 404, "not_found", `No route for ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    hub.log.error("http_error", { path: c.req.path, message: err.message });
    return jsonError(c, 500, "internal", "Internal server error");
  });
  return app;
}

/** The per-connection events: a closure over the handle, no wrapper made per event. */
function connectionEvents(opts: AppOptions, identity: Identity): CoreEvents {
  const events: CoreEvents = {
    onOpen(_evt: Event, ws: WSContext<unknown>) {
      const transport = opts.transportOf(ws.raw);
      events.handle = opts.hub.open(identity, transport);
      transport.attach?.(events.handle);
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
