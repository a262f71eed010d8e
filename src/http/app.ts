/** The HTTP app: the WebSocket upgrade, stats, metrics, dashboard, health and readiness routes. @module */
import { Hono, type Context } from "hono";
import type { UpgradeWebSocket, WSContext, WSEvents } from "hono/ws";
import type { Identity } from "../core/connection.ts";
import { metricsJson, metricsText, type MetricsSource } from "../core/metrics-view.ts";
import { globalStats, roomStatsWithModeration, type StatsSource } from "../core/stats.ts";
import type { ConnectionHandle, Transport } from "../lib/transport.ts";
import { dashboardHtml } from "../observability/dashboard.ts";
import { CONTENT_TYPES, negotiateMetricsFormat } from "../observability/prometheus.ts";
import { SERVER_VERSION } from "../version.ts";
import { admit, type Gateway } from "./admission.ts";
import { moderationRoutes, type ModerationServer } from "./moderation.ts";
import { mountDemo } from "./demo.ts";
import { checkRoomId } from "./validate.ts";

/** The WebSocket events the app hands to Hono, plus the connection's handle once open. */
export interface CoreEvents extends WSEvents<unknown> {
  /** Set in `onOpen`; adapters on hot paths may call it directly instead of the events. */
  handle?: ConnectionHandle;
}

/** What the app needs of the server: admission, the stats and metrics sources, health. */
export interface AppServer extends Gateway, ModerationServer {
  readonly stats: StatsSource;
  readonly metricsSource: MetricsSource;
  /** Liveness facts for `/health`. */
  health(): { uptime_s: number; connections: number };
  /** Why the server is not ready (draining, cluster unreachable), or undefined. */
  notReady(): string | undefined;
  /** Takes an upgraded socket; returns its handle. */
  open(identity: Identity, transport: Transport): ConnectionHandle;
}

/** What the app needs from the runtime adapter. */
export interface AppOptions {
  server: AppServer;
  /** Hono's upgrade helper for this runtime (`hono/bun`, `hono/deno`, adapters/node-ws.ts). */
  upgradeWebSocket: UpgradeWebSocket<unknown>;
  /** Makes the one {@link Transport} of a raw socket (`WSContext.raw`). Called once per socket. */
  transportOf: (raw: unknown) => Transport;
  /** Runtime name for `/health`. */
  runtime: string;
  /** Extra options for the runtime's upgrade (Deno: `idleTimeout`). */
  upgradeOptions?: unknown;
  /** The peer address of a request (hono's conninfo helper of the runtime). */
  remoteAddress?: (c: Context) => string | undefined;
}

const jsonError = (c: Context, status: number, error: string, message: string) =>
  c.json({ error, message }, status as 400);

/**
 * METRICS_TOKEN: stats reveal user ids, so they need the bearer token when one is set.
 * Returns the 401 response, or undefined when the request may go on.
 */
function denied(hub: AppServer, c: Context, allowQuery = false): Response | undefined {
  const token = hub.config.metricsToken;
  if (!token) return undefined;
  const given = c.req.header("authorization")?.replace(/^Bearer\s+/i, "") ?? (allowQuery ? c.req.query("token") : undefined);
  if (given === token) return undefined;
  hub.log.info("metrics_rejected", { path: c.req.path, status: 401 });
  return jsonError(c, 401, "unauthorized", "This endpoint needs Authorization: Bearer <METRICS_TOKEN>");
}

/** Builds the Hono app: WebSocket upgrade, stats, metrics, dashboard, health and readiness. */
export function createApp(opts: AppOptions): Hono {
  const hub = opts.server;
  const app = new Hono();

  app.get("/health", (c) =>
    c.json({
      status: "healthy",
      uptime_s: hub.health().uptime_s,
      version: SERVER_VERSION,
      runtime: opts.runtime,
      auth: hub.auth.mode,
      connections: hub.health().connections,
    }));

  app.get("/ready", (c) => {
    const reason = hub.notReady();
    if (reason) return c.json({ status: "not_ready", reason }, 503);
    return c.json({ status: "ready" });
  });

  app.get("/metrics", (c) => {
    const no = denied(hub, c);
    if (no) return no;
    const format = negotiateMetricsFormat(c.req.header("accept"), c.req.query("format"), "json");
    if (format === "json") return c.json(metricsJson(hub.metricsSource));
    return c.body(metricsText(hub.metricsSource, format), 200, { "Content-Type": CONTENT_TYPES[format] });
  });

  app.get("/dashboard", (c) => denied(hub, c, true) ?? c.html(dashboardHtml()));
  mountDemo(app);

  app.get("/ws/:room/stats", async (c) => {
    const no = denied(hub, c);
    if (no) return no;
    const room = c.req.param("room");
    const bad = checkRoomId(room);
    if (bad) return jsonError(c, 400, "bad_request", bad);
    return c.json(await roomStatsWithModeration(hub.stats, room));
  });

  app.get("/ws/:room", async (c): Promise<Response> => {
    const room = c.req.param("room");
    const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
    // `/ws/stats` is the global stats endpoint for plain GETs; an upgrade joins a room named "stats".
    if (room === "stats" && !upgrade) return denied(hub, c) ?? c.json(await globalStats(hub.stats));
    if (!upgrade) return jsonError(c, 426, "upgrade_required", "This endpoint only accepts WebSocket upgrades");
    const identity = await admit(c, room, { gateway: hub, remoteAddress: opts.remoteAddress });
    if ("status" in identity) {
      hub.log.info("upgrade_rejected", { room, status: identity.status, reason: identity.message });
      return c.json({ error: identity.error, message: identity.message }, identity.status as 400, identity.headers);
    }
    return opts.upgradeWebSocket(c, new ConnectionEvents(opts, identity), opts.upgradeOptions as never);
  });

  // compat (issue 15): GraphWiz-XR's moderation API and GET /rooms/{id}/clients.
  moderationRoutes(app, hub, { guard: (c) => denied(hub, c) });

  app.notFound((c) => jsonError(c, 404, "not_found", `No route for ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    hub.log.error("http_error", { path: c.req.path, message: err.message });
    return jsonError(c, 500, "internal", "Internal server error");
  });
  return app;
}

/**
 * The per-connection events. A class, so its methods live once on the prototype instead of as
 * three closures per connection; the runtimes call them as methods of this object.
 */
class ConnectionEvents implements CoreEvents {
  handle?: ConnectionHandle;
  constructor(readonly opts: AppOptions, public identity: Identity | undefined) {}
  onOpen(_evt: Event, ws: WSContext<unknown>): void {
    const transport = this.opts.transportOf(ws.raw);
    this.handle = this.opts.server.open(this.identity!, transport);
    this.identity = undefined; // settled into the connection; not kept twice
    // The runtimes' contexts live as long as the socket and each holds a parsed URL we never read.
    (ws as { url: URL | null }).url = null;
    transport.attach?.(this.handle);
  }
  onMessage(evt: MessageEvent, _ws: WSContext<unknown>): void {
    const data = evt.data;
    this.handle?.message(typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer));
  }
  onClose(evt: CloseEvent): void {
    // Deno reports an abrupt drop as code 0; it is an abnormal closure (1006) like on the other runtimes.
    this.handle?.closed(evt.code === 0 ? 1006 : evt.code, evt.reason);
  }
}
