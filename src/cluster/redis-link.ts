/**
 * The Redis backend's connections and their health: one command connection and one subscriber
 * connection per node, shared by its bus, room log and presence store.
 * @module
 */
import { Redis, type RedisOptions } from "ioredis";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../log.ts";
import { CLUSTER_DEFAULTS, ClusterUnavailableError, envelopeHeader, StatusCell } from "./shared.ts";
import { APPEND_LUA, HEAD_LUA, HEARTBEAT_LUA, NODES_LUA, READ_LUA, REAP_ROOM_LUA } from "./redis-scripts.ts";
import { RedisKeys } from "./redis-keys.ts";

/** Options of {@link createRedisBackend} (most of them apply to the memory backend too). */
export interface RedisBackendOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (REDIS_URL). */
  redisUrl: string;
  /** This instance's id (1–255 bytes of UTF-8), unique in the cluster. */
  nodeId: string;
  /** Key and channel prefix (REDIS_PREFIX). @default CLUSTER_DEFAULTS.prefix */
  prefix?: string;
  /** A node whose last heartbeat is older is dead (NODE_TTL_MS). @default CLUSTER_DEFAULTS.nodeTtlMs */
  nodeTtlMs?: number;
  /** Reliable messages kept per room. @default CLUSTER_DEFAULTS.historySize */
  historySize?: number;
  /** A room's log is forgotten (new epoch) after this long without an append (RESUME_WINDOW). @default CLUSTER_DEFAULTS.historyTtlMs */
  historyTtlMs?: number;
  /** Redis only: presence keys expire unless refreshed by heartbeats. @default CLUSTER_DEFAULTS.presenceTtlMs */
  presenceTtlMs?: number;
  /** Time for heartbeats, reaping (and, in memory, expiry). @default systemClock */
  clock?: Clock;
  /** @default silentLogger */
  log?: Logger;
  /** How long creation waits for Redis before it rejects. @default 5000 */
  connectTimeoutMs?: number;
  /** A command without a reply after this long rejects. @default 5000 */
  commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts. @default 2000 */
  reconnectMaxDelayMs?: number;
  /** Most bus frames awaiting Redis's reply before further ones are dropped. @default 100000 */
  maxInflight?: number;
  /** Extra ioredis options (applied last). */
  redisOptions?: Partial<RedisOptions>;
}

/** The script commands defined on the command connection. */
export interface ScriptCommands {
  gwAppend(log: string, hist: string, channel: string, header: Uint8Array, frame: Uint8Array, epoch: number, size: number, ttl: number): Promise<[string, string]>;
  gwReadBuffer(log: string, hist: string, epoch: number, after: number, limit: number): Promise<Uint8Array[]>;
  gwHead(log: string, hist: string, epoch: number, ttl: number): Promise<[string | null, string | null]>;
  gwReapRoom(members: string, players: string, entities: string, owners: string, nodeId: string): Promise<[string[], string[], string[]]>;
  gwNodes(beats: string, info: string, cutoff: number): Promise<string[]>;
  gwHeartbeat(beats: string, info: string, nodeId: string, now: number, json: string): Promise<number>;
}

/** `redis://user:secret@host` → `redis://user:***@host`, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

const CONNECTION_ERROR = /Stream isn't writeable|Connection is closed|MaxRetriesPerRequest|Command timed out|ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|socket/i;

/**
 * The two connections, their health, the bus counters and the subscriptions wanted. Shared by
 * the bus, the log and the presence store of one node.
 */
export class RedisLink {
  readonly cmd: Redis;
  readonly sub: Redis;
  readonly scripts: ScriptCommands;
  readonly keys: RedisKeys;
  readonly status: StatusCell;
  readonly counters = { published: 0, received: 0, dropped: 0, errors: 0, reconnects: 0 };
  /** The node envelope header, prepended to every frame this node publishes. */
  readonly header: Buffer;
  /** channel → room, for every room this node wants to receive. */
  readonly wanted = new Map<string, string>();
  readonly url: string;
  onMessage: (room: string, message: Buffer) => void = () => {};
  #subReady = false;
  #everHealthy = false;
  #closed = false;
  #lastError: string | undefined;

  constructor(readonly opts: RedisBackendOptions, readonly log: Logger) {
    this.url = redact(opts.redisUrl);
    this.keys = new RedisKeys(opts.prefix ?? CLUSTER_DEFAULTS.prefix);
    this.header = Buffer.from(envelopeHeader(opts.nodeId));
    this.status = new StatusCell({ healthy: false, reason: `Connecting to Redis at ${this.url}` });
    const maxDelay = opts.reconnectMaxDelayMs ?? 2000;
    const base: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      retryStrategy: (times) => Math.min(maxDelay, 25 * 2 ** Math.min(times, 10)) + Math.floor(Math.random() * 25),
      disableClientInfo: true,
    };
    this.cmd = new Redis(opts.redisUrl, { ...base, commandTimeout: opts.commandTimeoutMs ?? 5000, connectionName: `graphwiz-cmd-${opts.nodeId}`.replace(/\s/g, "_"), ...opts.redisOptions });
    this.sub = new Redis(opts.redisUrl, { ...base, connectionName: `graphwiz-sub-${opts.nodeId}`.replace(/\s/g, "_"), ...opts.redisOptions });
    const define = (name: string, numberOfKeys: number, lua: string) => this.cmd.defineCommand(name, { numberOfKeys, lua });
    define("gwAppend", 2, APPEND_LUA);
    define("gwRead", 2, READ_LUA);
    define("gwHead", 2, HEAD_LUA);
    define("gwReapRoom", 4, REAP_ROOM_LUA);
    define("gwNodes", 2, NODES_LUA);
    define("gwHeartbeat", 2, HEARTBEAT_LUA);
    this.scripts = this.cmd as unknown as ScriptCommands;

    for (const conn of [this.cmd, this.sub]) {
      conn.on("error", (e: Error) => {
        this.counters.errors++;
        this.#lastError = e?.message || String(e);
        this.#evaluate();
      });
      conn.on("close", () => this.#evaluate());
      conn.on("end", () => this.#evaluate());
      conn.on("reconnecting", () => this.#evaluate());
    }
    this.cmd.on("ready", () => this.#evaluate());
    this.sub.on("close", () => (this.#subReady = false));
    this.sub.on("ready", () => this.#resubscribe());
    this.sub.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      const room = this.wanted.get(channel.toString());
      if (room !== undefined) this.onMessage(room, message);
    });
  }

  /** Whether commands can be sent now. */
  get writable(): boolean {
    return this.cmd.status === "ready" && !this.#closed;
  }

  /** Subscribes every wanted channel on a fresh subscriber connection, then reports healthy. */
  #resubscribe(): void {
    const channels = [...this.wanted.keys()];
    const done = () => {
      this.#subReady = this.sub.status === "ready";
      this.#evaluate();
    };
    if (channels.length === 0) return done();
    this.sub.subscribe(...channels).then(done, (e: Error) => {
      // the connection dropped again; the next "ready" retries
      this.counters.errors++;
      this.#lastError = e.message;
      this.#evaluate();
    });
  }

  #evaluate(): void {
    if (this.#closed) return;
    const healthy = this.cmd.status === "ready" && this.sub.status === "ready" && this.#subReady;
    if (healthy) {
      if (!this.status.get().healthy) {
        if (this.#everHealthy) {
          this.counters.reconnects++;
          this.log.info("cluster_redis_restored", { url: this.url });
        }
        this.#everHealthy = true;
      }
      this.status.set(true);
      return;
    }
    const reason = this.#everHealthy
      ? `Redis connection lost (${this.url}): ${this.#lastError ?? "connection closed"}`
      : `Connecting to Redis at ${this.url}${this.#lastError ? `: ${this.#lastError}` : ""}`;
    if (this.status.get().healthy) this.log.warn("cluster_redis_lost", { url: this.url, error: this.#lastError });
    this.status.set(false, reason);
  }

  /** Resolves once both connections are ready; rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    if (this.status.get().healthy) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new ClusterUnavailableError(`Redis at ${this.url} is not reachable after ${timeoutMs} ms${this.#lastError ? `: ${this.#lastError}` : ""}`)), timeoutMs);
      this.status.on((s) => {
        if (s.healthy) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** The error for a call made while Redis is away. */
  unavailable(): ClusterUnavailableError {
    return new ClusterUnavailableError(this.#closed ? "Cluster backend is closed" : (this.status.get().reason ?? `Redis at ${this.url} is unavailable`));
  }

  /** Counts a failed command and turns it into a clear error. */
  failure(what: string, e: unknown): Error {
    this.counters.errors++;
    if (e instanceof ClusterUnavailableError) return e;
    const msg = (e as Error)?.message ?? String(e);
    if (!this.writable || CONNECTION_ERROR.test(msg)) return new ClusterUnavailableError(`Redis ${what} failed, Redis unavailable (${this.url}): ${msg}`, { cause: e });
    return new Error(`Redis ${what} failed: ${msg}`, { cause: e });
  }

  /** Runs a command unless Redis is away; failures become clear errors. */
  async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (!this.writable) throw this.unavailable();
    try {
      return await fn();
    } catch (e) {
      throw this.failure(what, e);
    }
  }

  /** Runs a pipeline/transaction and throws the first command error. */
  async exec(what: string, p: { exec(): Promise<[Error | null, unknown][] | null> }): Promise<unknown[]> {
    return this.run(what, async () => {
      const res = await p.exec();
      if (!res) throw new Error("transaction aborted");
      const out: unknown[] = [];
      for (const [err, v] of res) {
        if (err) throw err;
        out.push(v);
      }
      return out;
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const end = async (r: Redis) => {
      if (r.status === "ready") {
        try {
          await Promise.race([r.quit(), new Promise((_, rej) => setTimeout(() => rej(new Error("quit timeout")), 1000))]);
          return;
        } catch {
          // fall through to a hard disconnect
        }
      }
      r.disconnect();
    };
    await Promise.all([end(this.cmd), end(this.sub)]);
  }
}
