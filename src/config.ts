/**
 * Every setting of graphwiz-ws in one place: its environment variable, default, what it accepts
 * and meaning. The adapters read the environment and hand it to {@link loadConfig} (through
 * `boot`); nothing else under `src/` reads the environment. `docs/config.md` documents the same
 * table, ranges included (a test keeps the two in step). Value kinds: `config-values.ts`; rules
 * between settings: `config-rules.ts`.
 * @module
 */

import { brokenRule } from "./config-rules.ts";
import { bool, hostName, hostPorts, int, keyPrefix, list, nodeEnv, oneOf, origins, redisUrl, secret, text, token, type Kind } from "./config-values.ts";

/** The sections of `--help` and docs/config.md, in order. */
export const GROUPS = ["Server", "Rate limits", "Observability and lifecycle", "Authentication", "Delivery", "Cluster"] as const;
/** One of {@link GROUPS}. */
export type Group = (typeof GROUPS)[number];

/** A setting: where it comes from, its default, what it accepts and how a raw string becomes its value. */
export interface Setting<T> extends Kind<T> {
  /** The environment variable. */
  env: string;
  /** The value used when the variable is unset or empty. */
  default: T;
  /** One sentence for `--help`. */
  doc: string;
  /** Its section in `--help` and docs/config.md. */
  group: Group;
  /** Masked by `--check-config`. @default false */
  secret?: boolean;
}

const define = <T>(s: Setting<T>): Setting<T> => s;
const S: Group = "Server";
const R: Group = "Rate limits";
const O: Group = "Observability and lifecycle";
const A: Group = "Authentication";
const D: Group = "Delivery";
const C: Group = "Cluster";

/** The table of settings. Keys are the names used in code. */
export const SETTINGS = {
  port: define({ env: "PORT", default: 8083, ...int(0, 65535), group: S, doc: "TCP port to listen on (0 picks a free one and logs it)." }),
  host: define({ env: "HOST", default: "0.0.0.0", ...hostName, group: S, doc: "Address to bind (0.0.0.0: every IPv4 address)." }),
  logLevel: define({ env: "LOG_LEVEL", default: "info" as "debug" | "info" | "warn" | "error", ...oneOf("debug", "info", "warn", "error"), group: S, doc: "Least severe log level written (one JSON object per line on stdout)." }),
  settingsFile: define({ env: "SETTINGS_FILE", default: "", ...text("path of a KEY=VALUE file"), group: S, doc: "Read settings from this file too (same as --settings-file); the real environment wins. No .env is read otherwise." }),
  maxMessageBytes: define({ env: "MAX_MESSAGE_BYTES", default: 65_536, ...int(64, 16 * 1024 * 1024), group: S, doc: "Largest frame a client may send; a larger one closes the connection with 1009." }),
  maxEntitiesPerRoom: define({ env: "MAX_ENTITIES_PER_ROOM", default: 10_000, ...int(1, 1_000_000), group: S, doc: "Most shared entities one room may hold; a spawn beyond it gets LIMIT_EXCEEDED." }),
  maxEntityBytes: define({ env: "MAX_ENTITY_BYTES", default: 16_384, ...int(256, 16 * 1024 * 1024), group: S, doc: "Largest one entity may grow (its id, template and components); a spawn or update beyond it gets LIMIT_EXCEEDED." }),
  maxEntityComponents: define({ env: "MAX_ENTITY_COMPONENTS", default: 64, ...int(1, 100_000), group: S, doc: "Most component keys one entity may have; an update beyond it gets LIMIT_EXCEEDED." }),
  maxRoomStateBytes: define({ env: "MAX_ROOM_STATE_BYTES", default: 524_288, ...int(4096, 256 * 1024 * 1024), group: S, doc: "Largest a room's shared state (every entity and player) may grow; a change beyond it gets LIMIT_EXCEEDED. Every joiner receives this state in its SERVER_HELLO." }),
  allowedOrigins: define({ env: "ALLOWED_ORIGINS", default: [] as string[], ...origins, group: S, doc: "Browser origins allowed to connect (`*` = any)." }),
  maxConnections: define({ env: "MAX_CONNECTIONS", default: 50_000, ...int(1, 10_000_000), group: S, doc: "Most connections per instance; beyond it an upgrade gets HTTP 503." }),
  maxRoomConnections: define({ env: "MAX_ROOM_CONNECTIONS", default: 1000, ...int(1, 10_000_000), group: S, doc: "Most connections per room; beyond it an upgrade gets HTTP 503." }),
  pingIntervalMs: define({ env: "PING_INTERVAL_MS", default: 25_000, ...int(1000, 3_600_000), group: S, doc: "How often the server pings each connection." }),
  pongTimeoutMs: define({ env: "PONG_TIMEOUT_MS", default: 10_000, ...int(500, 3_600_000), group: S, doc: "A connection that has not answered a ping within this time is closed (4102)." }),
  trustProxy: define({ env: "TRUST_PROXY", default: false, ...bool, group: S, doc: "Take the client IP from the first X-Forwarded-For hop (only behind a proxy you control)." }),
  rateLimitMessages: define({ env: "RATE_LIMIT_MESSAGES", default: 120, ...int(0, 100_000_000), group: R, doc: "Messages one connection may send per window (0 disables)." }),
  rateLimitWindowMs: define({ env: "RATE_LIMIT_WINDOW_MS", default: 1000, ...int(10, 3_600_000), group: R, doc: "The rate-limit window." }),
  rateLimitStrikes: define({ env: "RATE_LIMIT_STRIKES", default: 10, ...int(0, 1_000_000), group: R, doc: "Consecutive windows over the limit before the connection is closed (0 never closes)." }),
  globalRateLimitMessages: define({ env: "GLOBAL_RATE_LIMIT_MESSAGES", default: 50_000, ...int(0, 1_000_000_000), group: R, doc: "Messages per window for the whole instance, shared fairly (0 disables)." }),
  connectRateLimit: define({ env: "CONNECT_RATE_LIMIT", default: 300, ...int(0, 10_000_000), group: R, doc: "Connection attempts per IP per 10 s (0 disables)." }),
  metricsToken: define({ env: "METRICS_TOKEN", default: "", ...secret(), secret: true, group: O, doc: "Bearer token for /metrics, the stats endpoints and /dashboard (in production they are closed without it)." }),
  metricsMaxRooms: define({ env: "METRICS_MAX_ROOMS", default: 100, ...int(1, 100_000), group: O, doc: "Rooms with their own metric series; the rest are aggregated." }),
  drainBatch: define({ env: "DRAIN_BATCH", default: 500, ...int(1, 1_000_000), group: O, doc: "Connections closed per 100 ms while draining." }),
  drainTimeoutMs: define({ env: "DRAIN_TIMEOUT_MS", default: 10_000, ...int(100, 3_600_000), group: O, doc: "On SIGTERM/SIGINT, the longest the drain takes before the process exits." }),
  collectAfterBurst: define({ env: "COLLECT_AFTER_BURST", default: true, ...bool, group: O, doc: "After a connect burst, give its garbage back to the system at once (one pause per burst)." }),
  jwtSecret: define({ env: "JWT_SECRET", default: "", ...secret(32), secret: true, group: A, doc: "HMAC secret (HS256/384/512) for tokens; never logged." }),
  jwtPublicKey: define({ env: "JWT_PUBLIC_KEY", default: "", ...text("SPKI PEM (\\n escapes allowed)"), group: A, doc: "PEM public key (RS*, PS*, ES*, EdDSA) for tokens." }),
  jwtJwksUrl: define({ env: "JWT_JWKS_URL", default: "", ...text("https:// URL (http:// to loopback only)"), group: A, doc: "JWKS URL for tokens (cached; refreshed on an unknown kid)." }),
  jwtAlgorithms: define({ env: "JWT_ALGORITHMS", default: [] as string[], ...list("comma list of HS256…EdDSA; needs a key"), group: A, doc: "Accepted `alg` values; default: every one the key type supports." }),
  jwtIssuer: define({ env: "JWT_ISSUER", default: "", ...text("text; needs a key"), group: A, doc: "Required `iss` claim (unchecked when unset)." }),
  jwtAudience: define({ env: "JWT_AUDIENCE", default: "", ...text("text; needs a key"), group: A, doc: "Required audience (unchecked when unset)." }),
  jwtLeewayS: define({ env: "JWT_LEEWAY_S", default: 5, ...int(0, 600), group: A, doc: "Clock skew tolerated for exp/nbf/iat, in seconds (needs a key)." }),
  authMode: define({ env: "AUTH_MODE", default: "required" as "required" | "optional", ...oneOf("required", "optional"), group: A, doc: "With a key: `required` (a valid token for every connection) or `optional` (no token = anonymous)." }),
  authTimeoutMs: define({ env: "AUTH_TIMEOUT_MS", default: 5000, ...int(100, 600_000), group: A, doc: "How long a connection without a token may take to send its authenticating CLIENT_HELLO (needs a key)." }),
  nodeEnv: define({ env: "NODE_ENV", default: "", ...nodeEnv, group: A, doc: "`production` (any case, trimmed) refuses to start without a key and closes stats, metrics and dashboard unless authorised." }),
  ackTimeoutMs: define({ env: "ACK_TIMEOUT_MS", default: 3000, ...int(50, 600_000), group: D, doc: "Reliable messages unacknowledged this long are resent (then with exponential backoff)." }),
  maxRetries: define({ env: "MAX_RETRIES", default: 5, ...int(0, 100), group: D, doc: "Resends before an unresponsive reliable connection is closed (4104)." }),
  resumeWindowMs: define({ env: "RESUME_WINDOW_MS", default: 30_000, ...int(0, 86_400_000), group: D, doc: "How long a dropped reliable session stays resumable." }),
  historySize: define({ env: "HISTORY_SIZE", default: 2000, ...int(16, 10_000_000), group: D, doc: "Reliable messages kept per room for retries and resume." }),
  slowConsumerSoftBytes: define({ env: "SLOW_CONSUMER_SOFT_BYTES", default: 262_144, ...int(1024, 1 << 30), group: D, doc: "Above this many buffered bytes a connection's position updates are coalesced and reliable messages queued." }),
  slowConsumerHardBytes: define({ env: "SLOW_CONSUMER_HARD_BYTES", default: 1_048_576, ...int(2048, 1 << 30), group: D, doc: "Above this many buffered + queued bytes a connection is closed (4101)." }),
  outboxTimeoutMs: define({ env: "OUTBOX_TIMEOUT_MS", default: 30_000, ...int(0, 3_600_000), group: D, doc: "How long a reliable message waits for an unreachable room log (Redis) before its sender gets NOT_DELIVERED." }),
  outboxMaxMessages: define({ env: "OUTBOX_MAX_MESSAGES", default: 10_000, ...int(0, 10_000_000), group: D, doc: "Most reliable messages waiting for an unreachable room log, all rooms together; beyond it a sender gets NOT_DELIVERED at once." }),
  roomTickHz: define({ env: "ROOM_TICK_HZ", default: 20, ...int(1, 120), group: D, doc: "Batch mode: room ticks per second (one POSE_BATCH per batch client per tick)." }),
  interestNearest: define({ env: "INTEREST_NEAREST", default: 32, ...int(0, 10_000), group: D, doc: "Batch mode: each member gets its this many nearest entities (and any up to 10 % farther) at every tick." }),
  interestRadius: define({ env: "INTEREST_RADIUS", default: 5, ...int(0, 100_000), group: D, doc: "Batch mode: entities within this many metres are sent at every tick too." }),
  interestFarHz: define({ env: "INTEREST_FAR_HZ", default: 2, ...int(1, 120), group: D, doc: "Batch mode: how often each member gets the poses of everyone else." }),
  interestMinRoomSize: define({ env: "INTEREST_MIN_ROOM_SIZE", default: 50, ...int(0, 1_000_000), group: D, doc: "Players (cluster-wide) at which a room switches to batch mode (back below 3/4 of it; 0: never)." }),
  redisUrl: define({ env: "REDIS_URL", default: "", ...redisUrl, secret: true, group: C, doc: "Redis for running several instances as one (unset: single instance, in memory)." }),
  redisClusterNodes: define({ env: "REDIS_CLUSTER_NODES", default: [] as string[], ...hostPorts, group: C, doc: "Redis Cluster seed nodes; sharded pub/sub." }),
  redisSentinels: define({ env: "REDIS_SENTINELS", default: [] as string[], ...hostPorts, group: C, doc: "Redis Sentinels to ask for the master (with REDIS_SENTINEL_NAME)." }),
  redisSentinelName: define({ env: "REDIS_SENTINEL_NAME", default: "", ...token(1, 128), group: C, doc: "The master group name the Sentinels monitor." }),
  redisSentinelUsername: define({ env: "REDIS_SENTINEL_USERNAME", default: "", ...token(1, 128), group: C, doc: "ACL user for the Sentinels themselves." }),
  redisSentinelPassword: define({ env: "REDIS_SENTINEL_PASSWORD", default: "", ...secret(), secret: true, group: C, doc: "Password of the Sentinels themselves (the master's comes from REDIS_URL)." }),
  redisConnectTimeoutMs: define({ env: "REDIS_CONNECT_TIMEOUT_MS", default: 15_000, ...int(1000, 600_000), group: C, doc: "How long start-up waits for Redis before it exits 1 (long enough for a Cluster or Sentinel failover in progress)." }),
  redisPrefix: define({ env: "REDIS_PREFIX", default: "graphwiz", ...keyPrefix, group: C, doc: "Prefix of every Redis key and channel." }),
  nodeId: define({ env: "NODE_ID", default: "", ...token(1, 64), group: C, doc: "This instance's id in the cluster (default: random)." }),
  nodeHeartbeatMs: define({ env: "NODE_HEARTBEAT_MS", default: 2000, ...int(100, 600_000), group: C, doc: "How often an instance tells the cluster it is alive." }),
  nodeTtlMs: define({ env: "NODE_TTL_MS", default: 6000, ...int(300, 3_600_000), group: C, doc: "An instance silent this long is dead: its connections leave presence and stats." }),
} as const;

type Settings = typeof SETTINGS;
/** The parsed configuration: one field per entry of {@link SETTINGS}. */
export type Config = { -readonly [K in keyof Settings]: Settings[K]["default"] };

/** A bad environment value: names the variable so start-up can stop with one clear line. */
export class ConfigError extends Error {
  constructor(readonly variable: string, reason: string) {
    super(`Invalid ${variable}: ${reason}`);
    this.name = "ConfigError";
  }
}

/**
 * Builds the configuration from an environment map (what the adapter read from its runtime).
 * @throws {ConfigError} on the first invalid value.
 */
export function loadConfig(env: Record<string, string | undefined> = {}): Config {
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const raw = env[setting.env];
    // Empty means unset (templated environments); blank is a mistake (METRICS_TOKEN=" " must not open /metrics).
    if (raw === undefined || raw === "") {
      out[key] = setting.default;
      continue;
    }
    if (raw.trim() === "") throw new ConfigError(setting.env, "is blank: give a value, or unset it");
    try {
      out[key] = setting.parse(raw);
    } catch (e) {
      throw new ConfigError(setting.env, (e as Error).message);
    }
  }
  const config = out as Config;
  const broken = brokenRule(config, (name) => !!env[name]);
  if (broken) throw new ConfigError(broken.variable, broken.reason);
  return config;
}

/** The defaults alone, with optional overrides (for tests and embedding). */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), ...overrides };
}

/**
 * The frame size the runtime itself enforces (Bun `maxPayloadLength`, ws `maxPayload`). It sits
 * above MAX_MESSAGE_BYTES so the core sees oversized frames first and can send an ERROR before
 * closing with 1009; the runtime cap only stops frames large enough to threaten memory.
 */
export function runtimeFrameCap(config: Config): number {
  return config.maxMessageBytes * 2 + 1024;
}

/** How long the room log keeps entries: long enough for the resume window and every resend. */
export function historyTtlMs(config: Config): number {
  return Math.max(config.resumeWindowMs, config.ackTimeoutMs * 2 ** (config.maxRetries + 1)) + 1000;
}
