/**
 * Start-up and shutdown, written once for every runtime. An adapter supplies a {@link Host}
 * (its arguments, environment, socket I/O, signals and exit) and calls {@link boot}.
 * @module
 */
import type { Context, Hono } from "hono";
import type { UpgradeWebSocket } from "hono/ws";
import { AuthPolicy } from "./auth/policy.ts";
import { createClusterBackend } from "./cluster/index.ts";
import type { ClusterBackend } from "./cluster/types.ts";
import { configReport, helpLines, parseArgs, versionLine, type Command, type Source } from "./cli.ts";
import { clusterMode, describeCluster, listenUrl } from "./describe.ts";
import { ConfigError, historyTtlMs, loadConfig, type Config } from "./config.ts";
import { parseEnvFile, withFileVariables } from "./env-file.ts";
import { drain } from "./core/drain.ts";
import { Keepalive } from "./core/keepalive.ts";
import { Server } from "./core/server.ts";
import type { Fanout, Transport } from "./lib/transport.ts";
import { createApp } from "./http/app.ts";
import { createLogger, type Logger } from "./log.ts";
import { isIpLiteral } from "./config-values.ts";
import { asStartupError, authFailure, badHost, listenFailure, redisFailure, StartupError } from "./startup.ts";
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
  /** The runtime's version for `--version` (e.g. `1.4.5`, `1.4.5, compiled binary`). */
  runtimeVersion: string;
  /** The command-line arguments after the program (and script) name. */
  argv: readonly string[];
  env: Record<string, string | undefined>;
  /** Reads a whole text file (`--settings-file`); throws when it cannot. */
  readTextFile(path: string): string;
  fanout: Fanout;
  upgradeWebSocket: UpgradeWebSocket<unknown>;
  transportOf: (raw: unknown) => Transport;
  /** Gives a connect burst's garbage back to the system; false where it cannot (see ServerOptions). */
  collectGarbage?: () => boolean;
  /** The peer address of a request (hono's conninfo helper of the runtime). */
  remoteAddress?: (c: Context) => string | undefined;
  /** Whether a host name resolves (checked before listening on a name, not an IP address). */
  resolves?(hostname: string): Promise<boolean>;
  /** Starts listening with the app; called once. Rejects (or throws) when it cannot listen. */
  listen(app: Hono, server: Server, config: Config): Promise<Listening>;
  /** Calls `handler` on SIGINT and SIGTERM. */
  onSignal(handler: (signal: string) => void): void;
  /**
   * A line to standard output / standard error, written out before the call returns: a
   * start-up failure's line is followed by `exit` at once, and must not be lost.
   */
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

/**
 * Reads the command line and the configuration, then answers `--help`, `--version` or
 * `--check-config`, or starts the server: builds the server and app, listens, and wires graceful
 * shutdown. Never throws: a start-up failure is one line on standard error and exit code 2
 * (configuration, arguments) or 1 (environment: port in use, Redis unreachable).
 */
export async function boot(host: Host): Promise<Running | undefined> {
  try {
    return await start(host);
  } catch (e) {
    const failure = asStartupError(e);
    host.stderr(`graphwiz-ws: ${failure.message}`);
    host.exit(failure.exitCode);
    return undefined;
  }
}

/** The settings as read: the configuration and the settings file, if any, with its variables. */
interface Settings {
  config: Config;
  settingsFile?: string;
  fileVars: Record<string, string>;
}

/** Applies the `.env` policy (a file only when asked for) and parses the settings. */
function readSettings(host: Host, cmd: Command): Settings {
  const settingsFile = cmd.settingsFile ?? (host.env.SETTINGS_FILE || undefined);
  let fileVars: Record<string, string> = {};
  if (settingsFile !== undefined) {
    const variable = cmd.settingsFile !== undefined ? "--settings-file" : "SETTINGS_FILE";
    let text: string;
    try {
      text = host.readTextFile(settingsFile);
    } catch (e) {
      throw new ConfigError(variable, `cannot read ${JSON.stringify(settingsFile)}: ${fileProblem(e)}`);
    }
    try {
      fileVars = parseEnvFile(text);
    } catch (e) {
      throw new ConfigError(variable, `${JSON.stringify(settingsFile)}: ${(e as Error).message}`);
    }
  }
  return { config: loadConfig(withFileVariables(host.env, fileVars)), settingsFile, fileVars };
}

/** Why a file could not be read, in the same words on every runtime. */
function fileProblem(e: unknown): string {
  const { code, name, message } = e as { code?: string; name?: string; message?: string };
  const why: Record<string, string> = { ENOENT: "no such file", NotFound: "no such file", EACCES: "permission denied", PermissionDenied: "permission denied", EISDIR: "it is a directory", IsADirectory: "it is a directory" };
  return why[code ?? ""] ?? why[name ?? ""] ?? (message || String(e));
}

async function start(host: Host): Promise<Running | undefined> {
  const cmd = parseArgs(host.argv);
  if (cmd.action === "help" || cmd.action === "version") {
    for (const line of cmd.action === "help" ? helpLines() : [versionLine(host.runtime, host.runtimeVersion)]) host.stdout(line);
    host.exit(0);
    return undefined;
  }
  const { config, settingsFile, fileVars } = readSettings(host, cmd);
  const log = createLogger(config.logLevel, host.stdout);
  const auth = AuthPolicy.fromConfig(config, { logger: log });
  if (typeof auth === "string") throw authFailure(auth.replace(/^Invalid JWT settings: /, ""), config);
  if (cmd.action === "check") {
    const sourceOf = (name: string): Source => (host.env[name] ? "environment" : fileVars[name] ? "settings file" : "default");
    const lines = configReport(config, { runtime: host.runtime, runtimeVersion: host.runtimeVersion, auth: auth.mode, cluster: describeCluster(config), settingsFile, sourceOf });
    for (const line of lines) host.stdout(line);
    host.exit(0);
    return undefined;
  }
  return serve(host, config, log, auth);
}

async function serve(host: Host, config: Config, log: Logger, auth: AuthPolicy): Promise<Running> {
  const nodeId = config.nodeId || crypto.randomUUID().slice(0, 8);
  let cluster: ClusterBackend | undefined;
  if (clusterMode(config) !== "memory") {
    try {
      cluster = await createClusterBackend({
        redisUrl: config.redisUrl || undefined, clusterNodes: config.redisClusterNodes, prefix: config.redisPrefix, nodeId, nodeTtlMs: config.nodeTtlMs,
        sentinels: config.redisSentinels, sentinelName: config.redisSentinelName || undefined,
        sentinelUsername: config.redisSentinelUsername || undefined, sentinelPassword: config.redisSentinelPassword || undefined,
        historySize: config.historySize, historyTtlMs: historyTtlMs(config), log, readyTimeoutMs: config.redisConnectTimeoutMs,
      });
    } catch (e) {
      throw redisFailure(e, config);
    }
  }
  const server = new Server({ config: nodeId === config.nodeId ? config : { ...config, nodeId }, fanout: host.fanout, log, auth, runtime: host.runtime, cluster, collectGarbage: host.collectGarbage });
  const app = createApp({
    server,
    upgradeWebSocket: host.upgradeWebSocket,
    transportOf: host.transportOf,
    runtime: host.runtime,
    remoteAddress: host.remoteAddress,
    cluster: { mode: clusterMode(config) },
  });
  const keepalive = new Keepalive({
    connections: server.connections, rooms: server.rooms, clock: server.clock, pingIntervalMs: config.pingIntervalMs, pongTimeoutMs: config.pongTimeoutMs,
    leewayMs: auth.leewaySec * 1000, out: server.out, delivery: server.delivery, acks: server.acks, sequencer: server.sequencer, sessions: server.sessions, replication: server.replication,
  });
  let listening: Listening;
  try {
    if (!isIpLiteral(config.host) && host.resolves && !(await host.resolves(config.host))) throw badHost(config.host);
    listening = await host.listen(app, server, config);
  } catch (e) {
    await server.backend.close().catch(() => {});
    throw e instanceof StartupError ? e : listenFailure(e, config.host, config.port);
  }
  keepalive.start();
  server.start();
  if (auth.mode === "development") {
    log.warn("auth_development_mode", { message: "No JWT key configured: anyone may connect as any user_id. Set JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL in production." });
  }
  log.info("listening", {
    url: listenUrl(config.host, listening.port), host: config.host, port: listening.port, runtime: host.runtime,
    version: SERVER_VERSION, node_id: server.nodeId, cluster: server.backend.kind,
  });

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
