/**
 * Every setting of graphwiz-ws in one place: its environment variable, default and meaning.
 * The adapters read the environment and hand it to {@link loadConfig}; nothing else under
 * `src/` reads the environment. `docs/config.md` documents the same table (a test keeps the
 * two in step).
 * @module
 */

/** A setting: where it comes from, its default and how a raw string becomes its value. */
export interface Setting<T> {
  /** The environment variable. */
  env: string;
  /** The value used when the variable is unset or empty. */
  default: T;
  /** One sentence for the docs. */
  doc: string;
  /** Turns the raw string into the value; throws an `Error` with a sentence-case reason. */
  parse: (raw: string) => T;
}

const int = (min: number, max: number) => (raw: string): number => {
  if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
  return n;
};
const text = (raw: string): string => raw;
const bool = (raw: string): boolean => {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
};
const oneOf = <T extends string>(...values: T[]) => (raw: string): T => {
  const v = raw.trim().toLowerCase() as T;
  if (!values.includes(v)) throw new Error(`must be one of ${values.join(", ")}, got "${raw}"`);
  return v;
};
const list = (raw: string): string[] => raw.split(",").map((s) => s.trim()).filter(Boolean);
const define = <T>(s: Setting<T>): Setting<T> => s;

/** The table of settings. Keys are the names used in code. */
export const SETTINGS = {
  port: define({ env: "PORT", default: 8083, parse: int(0, 65535), doc: "TCP port to listen on (0 picks a free one and logs it)." }),
  host: define({ env: "HOST", default: "0.0.0.0", parse: text, doc: "Address to bind." }),
  logLevel: define({ env: "LOG_LEVEL", default: "info" as "debug" | "info" | "warn" | "error", parse: oneOf("debug", "info", "warn", "error"), doc: "Least severe log level written (one JSON object per line on stdout)." }),
  maxMessageBytes: define({ env: "MAX_MESSAGE_BYTES", default: 65_536, parse: int(64, 16 * 1024 * 1024), doc: "Largest frame a client may send; a larger one closes the connection with 1009." }),
  allowedOrigins: define({ env: "ALLOWED_ORIGINS", default: [] as string[], parse: list, doc: "Comma list of browser origins allowed to connect (`*` = any)." }),
  maxConnections: define({ env: "MAX_CONNECTIONS", default: 50_000, parse: int(1, 10_000_000), doc: "Most connections per instance; beyond it an upgrade gets HTTP 503." }),
  maxRoomConnections: define({ env: "MAX_ROOM_CONNECTIONS", default: 1000, parse: int(1, 10_000_000), doc: "Most connections per room; beyond it an upgrade gets HTTP 503." }),
  pingIntervalMs: define({ env: "PING_INTERVAL_MS", default: 25_000, parse: int(1000, 3_600_000), doc: "How often the server pings each connection." }),
  pongTimeoutMs: define({ env: "PONG_TIMEOUT_MS", default: 10_000, parse: int(500, 3_600_000), doc: "A connection that has not answered a ping within this time is closed (4102)." }),
  trustProxy: define({ env: "TRUST_PROXY", default: false, parse: bool, doc: "Take the client IP from the first X-Forwarded-For hop (only behind a proxy you control)." }),
  jwtSecret: define({ env: "JWT_SECRET", default: "", parse: text, doc: "HMAC secret (HS256/384/512) for tokens; never logged." }),
  jwtPublicKey: define({ env: "JWT_PUBLIC_KEY", default: "", parse: text, doc: "PEM public key (RS*, PS*, ES*, EdDSA) for tokens." }),
  jwtJwksUrl: define({ env: "JWT_JWKS_URL", default: "", parse: text, doc: "JWKS URL for tokens (cached; refreshed on an unknown kid)." }),
  jwtAlgorithms: define({ env: "JWT_ALGORITHMS", default: [] as string[], parse: list, doc: "Accepted `alg` values; default: every one the key type supports." }),
  jwtIssuer: define({ env: "JWT_ISSUER", default: "", parse: text, doc: "Required `iss` claim (unchecked when unset)." }),
  jwtAudience: define({ env: "JWT_AUDIENCE", default: "", parse: text, doc: "Required audience (unchecked when unset)." }),
  jwtLeewayS: define({ env: "JWT_LEEWAY_S", default: 5, parse: int(0, 3600), doc: "Clock skew tolerated for exp/nbf/iat, in seconds." }),
  authMode: define({ env: "AUTH_MODE", default: "required" as "required" | "optional", parse: oneOf("required", "optional"), doc: "With a key configured: `required` (a valid token for every connection) or `optional` (no token = anonymous)." }),
  authTimeoutMs: define({ env: "AUTH_TIMEOUT_MS", default: 5000, parse: int(100, 600_000), doc: "How long a connection without a token may take to send its authenticating CLIENT_HELLO." }),
  nodeEnv: define({ env: "NODE_ENV", default: "", parse: text, doc: "`production` refuses to start without a key." }),
  rateLimitMessages: define({ env: "RATE_LIMIT_MESSAGES", default: 120, parse: int(0, 100_000_000), doc: "Messages one connection may send per window (0 disables)." }),
  rateLimitWindowMs: define({ env: "RATE_LIMIT_WINDOW_MS", default: 1000, parse: int(10, 3_600_000), doc: "The rate-limit window." }),
  rateLimitStrikes: define({ env: "RATE_LIMIT_STRIKES", default: 10, parse: int(0, 1_000_000), doc: "Consecutive windows over the limit before the connection is closed (0 never closes)." }),
  globalRateLimitMessages: define({ env: "GLOBAL_RATE_LIMIT_MESSAGES", default: 50_000, parse: int(0, 1_000_000_000), doc: "Messages per window for the whole instance, shared fairly (0 disables)." }),
  connectRateLimit: define({ env: "CONNECT_RATE_LIMIT", default: 300, parse: int(0, 10_000_000), doc: "Connection attempts per IP per 10 s (0 disables)." }),
  metricsToken: define({ env: "METRICS_TOKEN", default: "", parse: text, doc: "Bearer token required by /metrics, the stats endpoints and /dashboard." }),
  metricsMaxRooms: define({ env: "METRICS_MAX_ROOMS", default: 100, parse: int(1, 100_000), doc: "Rooms with their own metric series; the rest are aggregated." }),
  drainBatch: define({ env: "DRAIN_BATCH", default: 500, parse: int(1, 1_000_000), doc: "Connections closed per 100 ms while draining." }),
  drainTimeoutMs: define({ env: "DRAIN_TIMEOUT_MS", default: 10_000, parse: int(100, 3_600_000), doc: "On SIGTERM/SIGINT, the longest the drain takes before the process exits." }),
  ackTimeoutMs: define({ env: "ACK_TIMEOUT_MS", default: 3000, parse: int(50, 600_000), doc: "Reliable messages unacknowledged this long are resent (then with exponential backoff)." }),
  maxRetries: define({ env: "MAX_RETRIES", default: 5, parse: int(0, 100), doc: "Resends before an unresponsive reliable connection is closed (4104)." }),
  resumeWindowMs: define({ env: "RESUME_WINDOW_MS", default: 30_000, parse: int(0, 86_400_000), doc: "How long a dropped reliable session stays resumable." }),
  historySize: define({ env: "HISTORY_SIZE", default: 2000, parse: int(16, 10_000_000), doc: "Reliable messages kept per room for retries and resume." }),
  slowConsumerSoftBytes: define({ env: "SLOW_CONSUMER_SOFT_BYTES", default: 262_144, parse: int(1024, 1 << 30), doc: "Above this many buffered bytes a connection's position updates are coalesced and reliable messages queued." }),
  slowConsumerHardBytes: define({ env: "SLOW_CONSUMER_HARD_BYTES", default: 1_048_576, parse: int(2048, 1 << 30), doc: "Above this many buffered + queued bytes a connection is closed (4101)." }),
  redisUrl: define({ env: "REDIS_URL", default: "", parse: text, doc: "Redis for running several instances as one (unset: single instance, in memory)." }),
  redisClusterNodes: define({ env: "REDIS_CLUSTER_NODES", default: [] as string[], parse: list, doc: "Redis Cluster seed nodes (host:port list); sharded pub/sub." }),
  redisPrefix: define({ env: "REDIS_PREFIX", default: "graphwiz", parse: text, doc: "Prefix of every Redis key and channel." }),
  nodeId: define({ env: "NODE_ID", default: "", parse: text, doc: "This instance's id in the cluster (default: random)." }),
  nodeHeartbeatMs: define({ env: "NODE_HEARTBEAT_MS", default: 2000, parse: int(100, 600_000), doc: "How often an instance tells the cluster it is alive." }),
  nodeTtlMs: define({ env: "NODE_TTL_MS", default: 6000, parse: int(300, 3_600_000), doc: "An instance silent this long is dead: its connections leave presence and stats." }),
  maxEntitiesPerRoom: define({ env: "MAX_ENTITIES_PER_ROOM", default: 10_000, parse: int(1, 1_000_000), doc: "Most shared entities one room may hold; a spawn beyond it gets LIMIT_EXCEEDED." }),
  maxEntityBytes: define({ env: "MAX_ENTITY_BYTES", default: 16_384, parse: int(256, 16 * 1024 * 1024), doc: "Largest one entity may grow (its id, template and components); a spawn or update beyond it gets LIMIT_EXCEEDED." }),
  maxEntityComponents: define({ env: "MAX_ENTITY_COMPONENTS", default: 64, parse: int(1, 100_000), doc: "Most component keys one entity may have; an update beyond it gets LIMIT_EXCEEDED." }),
  maxRoomStateBytes: define({ env: "MAX_ROOM_STATE_BYTES", default: 524_288, parse: int(4096, 256 * 1024 * 1024), doc: "Largest a room's shared state (every entity and player) may grow; a change beyond it gets LIMIT_EXCEEDED. Every joiner receives this state in its SERVER_HELLO." }),
  outboxTimeoutMs: define({ env: "OUTBOX_TIMEOUT_MS", default: 30_000, parse: int(0, 3_600_000), doc: "How long a reliable message waits for an unreachable room log (Redis) before its sender gets NOT_DELIVERED." }),
  outboxMaxMessages: define({ env: "OUTBOX_MAX_MESSAGES", default: 10_000, parse: int(0, 10_000_000), doc: "Most reliable messages waiting for an unreachable room log, all rooms together; beyond it a sender gets NOT_DELIVERED at once." }),
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
    if (raw === undefined || raw.trim() === "") {
      out[key] = setting.default;
      continue;
    }
    try {
      out[key] = setting.parse(raw);
    } catch (e) {
      throw new ConfigError(setting.env, (e as Error).message);
    }
  }
  return out as Config;
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
