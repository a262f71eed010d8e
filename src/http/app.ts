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
import { mountDemo } from "./demo.ts";
import { moderationRoutes, type ModerationServer } from "./moderation.ts";
import { opsDenied } from "./ops-access.ts";
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
  readonly nodeId: string;
  /** Liveness facts for `/health`. */
  health(): { uptime_s: number; connections: number };
  /** Why the cluster is not usable now, or undefined. */
  clusterNotReady(): string | undefined;
  /** The cluster backend's kind (memory, redis). */
  readonly clusterKind: string;
  /** Takes an upgraded socket; returns its handle. */
  open(identity: Identity, transport: Transport): ConnectionHandle;
}

/** What the app needs from the runtime adapter. */
export interface AppOptions {
  server: AppServer;
  /** Hono's upgrade helper for this runtime (`hono/bun`; adapters/node-ws.ts on Node and Deno). */
  upgradeWebSocket: UpgradeWebSocket<unknown>;
  /** Makes the one {@link Transport} of a raw socket (`WSContext.raw`). Called once per socket. */
  transportOf: (raw: unknown) => Transport;
  /** Runtime name for `/health`. */
  runtime: string;
  /** The peer address of a request (hono's conninfo helper of the runtime). */
  remoteAddress?: (c: Context) => string | undefined;
  /** The cluster backend the settings chose, for `/health` and `/ready`. @default memory */
  cluster?: { mode: string };
}

const jsonError = (c: Context, status: number, error: string, message: string) =>
  c.json({ error, message }, status as 400);

/** The paths the app answers, for `GET /` and for 405 on other methods. */
const PATHS = ["/", "/health", "/ready", "/metrics", "/dashboard", "/ws/:room/stats", "/ws/:room"];

/** Builds the Hono app: WebSocket upgrade, stats, metrics, dashboard, health and readiness. */
export function createApp(opts: AppOptions): Hono {
  const hub = opts.server;
  const app = new Hono();
  const clusterState = () => {
    const reason = hub.clusterNotReady();
    return { backend: opts.cluster?.mode ?? hub.clusterKind, healthy: !reason, ...(reason ? { reason } : {}) };
  };

  app.get("/", (c) => {
    // An upgrade here is a client that got the path wrong (or sent `/ws/..`, which URLs normalise to `/`).
    if (c.req.header("upgrade")?.toLowerCase() === "websocket") {
      return jsonError(c, 404, "not_found", "No WebSocket endpoint at /: connect to /ws/{room_id}");
    }
    return c.json({
      name: "graphwiz-ws",
      version: SERVER_VERSION,
      runtime: opts.runtime,
      links: {
        websocket: "/ws/{room_id}", dashboard: "/dashboard", health: "/health", ready: "/ready", metrics: "/metrics", stats: "/ws/stats",
        docs: "README.md and docs/ of the graphwiz-ws package (protocol, config, deploy)",
      },
    });
  });

  app.get("/health", (c) =>
    c.json({
      status: "healthy",
      uptime_s: hub.health().uptime_s,
      version: SERVER_VERSION,
      runtime: opts.runtime,
      auth: hub.auth.mode,
      connections: hub.health().connections,
      node_id: hub.nodeId,
      cluster: clusterState(),
    }));

  app.get("/ready", (c) => {
    const cluster = clusterState();
    const reason = hub.draining ? "draining" : cluster.reason;
    if (reason) return c.json({ status: "not_ready", reason, cluster }, 503);
    return c.json({ status: "ready", cluster });
  });

  app.get("/metrics", async (c) => {
    const no = await opsDenied(hub, c);
    if (no) return no;
    const format = negotiateMetricsFormat(c.req.header("accept"), c.req.query("format"), "json");
    if (format === "json") return c.json(metricsJson(hub.metricsSource));
    return c.body(metricsText(hub.metricsSource, format), 200, { "Content-Type": CONTENT_TYPES[format] });
  });

  app.get("/dashboard", async (c) => (await opsDenied(hub, c, { allowQuery: true })) ?? c.html(dashboardHtml()));
  mountDemo(app);

  app.get("/ws/:room/stats", async (c) => {
    const room = c.req.param("room");
    const bad = checkRoomId(room);
    if (bad) return jsonError(c, 400, "bad_request", bad);
    const no = await opsDenied(hub, c, { room });
    if (no) return no;
    return c.json(await roomStatsWithModeration(hub.stats, room));
  });

  app.get("/ws/:room", async (c): Promise<Response> => {
    const room = c.req.param("room");
    const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
    // `/ws/stats` is the global stats endpoint for plain GETs; an upgrade joins a room named "stats".
    if (room === "stats" && !upgrade) return (await opsDenied(hub, c)) ?? c.json(await globalStats(hub.stats));
    if (!upgrade) return jsonError(c, 426, "upgrade_required", "This endpoint only accepts WebSocket upgrades");
    const identity = await admit(c, room, { gateway: hub, remoteAddress: opts.remoteAddress });
    if ("status" in identity) {
      hub.log.info("upgrade_rejected", { room, status: identity.status, reason: identity.message });
      return c.json({ error: identity.error, message: identity.message }, identity.status as 400, identity.headers);
    }
    return opts.upgradeWebSocket(c, new ConnectionEvents(opts, identity));
  });

  moderationRoutes(app, hub, { guard: (c, room) => opsDenied(hub, c, { room }) });

  // Every path above answers GET (and HEAD, which Hono serves from GET); other methods get 405.
  for (const path of PATHS) {
    app.all(path, (c) => c.json({ error: "method_not_allowed", message: `${c.req.method} is not allowed on ${c.req.path}; use GET` }, 405, { Allow: "GET, HEAD" }));
  }
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
