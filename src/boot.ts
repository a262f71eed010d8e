/**
 * Start-up and shutdown, written once for every runtime. An adapter supplies a {@link Host}
 * (its socket I/O, environment, signals and exit) and calls {@link boot}.
 * @module
 */
import type { Context, Hono } from "hono";
import type { UpgradeWebSocket } from "hono/ws";
import { AuthPolicy } from "./auth/policy.ts";
import { createClusterBackend } from "./cluster/index.ts";
import type { ClusterBackend } from "./cluster/types.ts";
import { ConfigError, historyTtlMs, loadConfig, type Config } from "./config.ts";
import { drain } from "./core/drain.ts";
import { Keepalive } from "./core/keepalive.ts";
import { Server } from "./core/server.ts";
import type { Fanout, Transport } from "./lib/transport.ts";
import { createApp } from "./http/app.ts";
import { createLogger, type Logger } from "./log.ts";
import { SERVER_VERSION } from "./version.ts";

/** A listening server as the adapter reports it. */
export interface Listening {
  /** The bound port (useful with `PORT=0`). */
  port: number;
  /** Stops accepting new connections; open sockets stay up. */
  stopAccepting(): void | Promise<void>;
}

/** What a runtime adapter provides. */
export interface Host {
  runtime: "bun" | "deno" | "node";
  env: Record<string, string | undefined>;
  fanout: Fanout;
  upgradeWebSocket: UpgradeWebSocket<unknown>;
  transportOf: (raw: unknown) => Transport;
  /** The peer address of a request (hono's conninfo helper of the runtime). */
  remoteAddress?: (c: Context) => string | undefined;
  /** Extra options for the runtime's upgrade helper, from the config. */
  upgradeOptions?: (config: Config) => unknown;
  /** Starts listening with the app; called once. */
  listen(app: Hono, server: Server, config: Config): Promise<Listening>;
  /** Calls `handler` on SIGINT and SIGTERM. */
  onSignal(handler: (signal: string) => void): void;
  /** A line to standard output / standard error. */
  stdout(line: string): void;
  stderr(line: string): void;
  exit(code: number): void;
}

/** A started server (returned for embedding and tests). */
export interface Running {
  server: Server;
  app: Hono;
  port: number;
  log: Logger;
  /** Stops accepting, closes every client with 1001, and resolves when done or timed out. */
  shutdown(): Promise<void>;
}

/** Loads config, builds the server and app, listens, and wires graceful shutdown. */
export async function boot(host: Host): Promise<Running | undefined> {
  let config: Config;
  try {
    config = loadConfig(host.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    host.stderr(`graphwiz-ws: ${e.message}`);
    host.exit(2);
    return undefined;
  }
  const log = createLogger(config.logLevel, host.stdout);
  const auth = AuthPolicy.fromConfig(config, { logger: log });
  if (typeof auth === "string") {
    host.stderr(`graphwiz-ws: ${auth}`);
    host.exit(2);
    return undefined;
  }
  if (auth.mode === "development") {
    log.warn("auth_development_mode", { message: "No JWT key configured: anyone may connect as any user_id. Set JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL in production." });
  }
  const nodeId = config.nodeId || crypto.randomUUID().slice(0, 8);
  let cluster: ClusterBackend | undefined;
  if (config.redisUrl || config.redisClusterNodes.length > 0) {
    try {
      cluster = await createClusterBackend({
        redisUrl: config.redisUrl || undefined, clusterNodes: config.redisClusterNodes, prefix: config.redisPrefix, nodeId, nodeTtlMs: config.nodeTtlMs,
        historySize: config.historySize, historyTtlMs: historyTtlMs(config), log,
      });
    } catch (e) {
      host.stderr(`graphwiz-ws: ${(e as Error).message}`);
      host.exit(1);
      return undefined;
    }
  }
  const server = new Server({ config: nodeId === config.nodeId ? config : { ...config, nodeId }, fanout: host.fanout, log, auth, runtime: host.runtime, cluster });
  const app = createApp({
    server,
    upgradeWebSocket: host.upgradeWebSocket,
    transportOf: host.transportOf,
    runtime: host.runtime,
    upgradeOptions: host.upgradeOptions?.(config),
    remoteAddress: host.remoteAddress,
  });
  const keepalive = new Keepalive({
    connections: server.connections, rooms: server.rooms, clock: server.clock, pingIntervalMs: config.pingIntervalMs, pongTimeoutMs: config.pongTimeoutMs,
    leewayMs: auth.leewaySec * 1000, out: server.out, delivery: server.delivery, acks: server.acks, sequencer: server.sequencer, sessions: server.sessions, replication: server.replication,
  });
  keepalive.start();
  server.start();
  const listening = await host.listen(app, server, config);
  log.info("listening", { host: config.host, port: listening.port, runtime: host.runtime, version: SERVER_VERSION, node: server.nodeId, cluster: server.backend.kind });

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      // Keep listening while draining, so new upgrades get a clear 503 rather than a refused connection.
      const clean = await drain({
        connections: server.connections, delivery: server.delivery, out: server.out, clock: server.clock, logger: log,
        batch: config.drainBatch, timeoutMs: config.drainTimeoutMs, start: () => (server.draining = true),
      });
      keepalive.stop();
      server.stop();
      await listening.stopAccepting();
      await server.backend.close().catch(() => {});
      log.info("shutdown", { clean, remaining: server.connections.size });
    })());
  host.onSignal((signal) => {
    log.info("signal", { signal });
    shutdown().then(() => host.exit(0), () => host.exit(1));
  });
  return { server, app, port: listening.port, log, shutdown };
}
