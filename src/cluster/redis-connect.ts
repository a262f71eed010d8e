/**
 * How the Redis backend connects: its options, the ioredis clients for one Redis server, a
 * master found through Redis Sentinel, or a Redis Cluster, and the receiving side that goes
 * with each (SUBSCRIBE on one connection, or SSUBSCRIBE on one connection per shard).
 * @module
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import { hasEntries, parseHostPorts, parseRedisUrl, redact, type HostPort } from "../config-values.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../log.ts";
import { ShardSubscribers } from "./redis-shards.ts";
import { ChannelSubscriber, watch, type SubscriberHooks, type Subscriptions } from "./redis-subscriber.ts";

/** Options of {@link createRedisBackend} (most of them apply to the memory backend too). */
export interface RedisBackendOptions {
  /**
   * `redis://[user:password@]host:port[/db]` or `rediss://…` (REDIS_URL). With
   * {@link clusterNodes} or {@link sentinels} it is optional and only lends its user, password,
   * TLS (and, for Sentinel, database) to the data nodes; its host is not used.
   */
  redisUrl?: string;
  /**
   * Redis Sentinels to ask for the current master of {@link sentinelName} (`host:port` each, an
   * array or one comma-separated string: REDIS_SENTINELS). ioredis' own Sentinel support: on a
   * failover the connections move to the promoted master (`+switch-master` is watched).
   */
  sentinels?: string[] | string;
  /** The master group name the Sentinels monitor (REDIS_SENTINEL_NAME). */
  sentinelName?: string;
  /** ACL user of the Sentinels themselves (REDIS_SENTINEL_USERNAME). */
  sentinelUsername?: string;
  /** Password of the Sentinels themselves (REDIS_SENTINEL_PASSWORD). */
  sentinelPassword?: string;
  /**
   * A Redis Cluster's seed nodes, `host:port` each (an array, or one comma-separated string:
   * REDIS_CLUSTER_NODES; IPv6 as `[::1]:7000`). Needs Redis ≥ 7: rooms use sharded pub/sub
   * (SSUBSCRIBE/SPUBLISH), each room's channel and keys in the slot of its hash tag.
   */
  clusterNodes?: string[] | string;
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
  /** How long one connection attempt may take (and creation waits, unless `readyTimeoutMs`). @default 5000 */
  connectTimeoutMs?: number;
  /** How long creation waits for every connection to be ready before it rejects (REDIS_CONNECT_TIMEOUT_MS). @default connectTimeoutMs */
  readyTimeoutMs?: number;
  /** A command without a reply after this long rejects. @default 5000 */
  commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts. @default 2000 */
  reconnectMaxDelayMs?: number;
  /** Most bus frames awaiting Redis's reply before further ones are dropped. @default 100000 */
  maxInflight?: number;
  /** Extra ioredis options of every connection (applied last). */
  redisOptions?: Partial<RedisOptions>;
  /** Redis Cluster only: extra ioredis `Cluster` options (e.g. `natMap`; applied last). */
  clusterOptions?: Partial<ClusterOptions>;
}

export type { HostPort };

/** `"a:7000,b:7001"` or `["a:7000", "[::1]:7001"]` → seed nodes. @throws {Error} naming a malformed entry. */
export function parseClusterNodes(nodes: string[] | string): HostPort[] {
  return parseHostPorts(nodes, "Redis Cluster nodes");
}

export { redact };

/**
 * The user, password and TLS of a `redis://` / `rediss://` URL, for nodes found otherwise (and
 * its database, when `withDb`: a Sentinel's master has databases, a Redis Cluster only 0).
 */
function credentials(url: string | undefined, withDb = false): Partial<RedisOptions> {
  if (!url) return {};
  const u = parseRedisUrl(url);
  const out: Partial<RedisOptions> = {};
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  if (u.protocol === "rediss:") out.tls = {};
  if (withDb && /^\/\d+$/.test(u.pathname)) out.db = Number(u.pathname.slice(1));
  return out;
}

/** ioredis' Sentinel options: where the Sentinels are, their credentials, and the master's. */
function sentinelOptions(opts: RedisBackendOptions): Partial<RedisOptions> {
  const auth = credentials(opts.redisUrl, true);
  if (!opts.sentinelName) throw new Error("Redis Sentinel needs the master group name (sentinelName)");
  return {
    sentinels: parseHostPorts(opts.sentinels!, "Redis Sentinels"),
    name: opts.sentinelName,
    sentinelUsername: opts.sentinelUsername,
    sentinelPassword: opts.sentinelPassword,
    // TLS (rediss://) for the master and the Sentinels alike.
    ...(auth.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
    // Reconnect to the new master as soon as a Sentinel announces the switch; a demoted master
    // answers writes with READONLY, which also sends the connection to the current master.
    failoverDetector: true,
    reconnectOnError: (e: Error) => (/^READONLY/.test(e.message) ? 1 : false),
    ...auth,
  };
}

/** The clients of one node. */
export interface Clients {
  /** Every command (and publish): one connection, or a `Cluster` routing each by slot. */
  cmd: Redis | Cluster;
  subs: Subscriptions;
  /** True on a Redis Cluster: publish with SPUBLISH. */
  sharded: boolean;
  /** Where, for messages: `Redis at redis://…` or `Redis Cluster at a:7000,b:7001` (no secrets). */
  where: string;
}

/**
 * Opens the command client and the subscriber side. Nothing is queued while Redis is away:
 * the connections to one server have no offline queue (`enableOfflineQueue: false`), and the
 * link sends nothing to a `Cluster` that is not ready, so calls fail at once; subscriptions
 * are restored by the subscriber side when connections return.
 * @throws {Error} when neither `redisUrl`, `sentinels` nor `clusterNodes` is given, or a node is not `host:port`.
 */
export function openClients(opts: RedisBackendOptions, hooks: SubscriberHooks): Clients {
  const maxDelay = opts.reconnectMaxDelayMs ?? 2000;
  const retry = (times: number) => Math.min(maxDelay, 25 * 2 ** Math.min(times, 10)) + Math.floor(Math.random() * 25);
  const name = (role: string) => `graphwiz-${role}-${opts.nodeId}`.replace(/\s/g, "_");
  const base: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    retryStrategy: retry,
    disableClientInfo: true,
  };
  const commandTimeout = opts.commandTimeoutMs ?? 5000;
  // Commands issued in one tick go out in one socket write. A reliable message is a room-log
  // append preceded by the bus frames queued before it (kept in that order): two writes per chat
  // were a third of the sending instance's CPU in the cross-instance bench. One connection keeps
  // the order of what it is given. Only on a single server: behind Sentinel a failover once left
  // heartbeats waiting behind a pipeline long enough for the instances to judge each other dead
  // (sentinel.test.ts, planned failover); on a Cluster, see below.
  const pipelined = { enableAutoPipelining: true };

  if (opts.clusterNodes !== undefined) {
    const seeds = parseClusterNodes(opts.clusterNodes);
    const auth = credentials(opts.redisUrl);
    // The link sends nothing while the Cluster is not ready, so its offline queue stays empty.
    // It must stay on: without it, commands for a node whose connection is still being made
    // (node connections are lazy) are bounced and retried through other nodes, out of order.
    // No auto-pipelining here: a Cluster's pipeline waits for the Cluster to be ready, so a
    // command given just as its masters went away hung instead of failing (seen in the outage
    // contract test).
    const cmd = new Cluster(seeds, {
      enableOfflineQueue: true,
      clusterRetryStrategy: retry,
      slotsRefreshTimeout: Math.min(opts.connectTimeoutMs ?? 5000, 2000),
      // Re-read the slot map now and then: a master that failed over is otherwise still named
      // until a MOVED reply, and the subscriber of its slots would wait for it forever.
      slotsRefreshInterval: 2000,
      redisOptions: { connectTimeout: base.connectTimeout, commandTimeout, connectionName: name("cmd"), disableClientInfo: true, ...auth, ...opts.redisOptions },
      ...opts.clusterOptions,
    });
    watch(cmd, hooks);
    const subs = new ShardSubscribers(cmd, { ...base, connectionName: name("sub"), ...auth, ...opts.redisOptions }, hooks);
    return { cmd, subs, sharded: true, where: `Redis Cluster at ${seeds.map((s) => `${s.host}:${s.port}`).join(",")}` };
  }
  if (hasEntries(opts.sentinels)) {
    const sentinel = sentinelOptions(opts);
    const cmd = new Redis({ ...base, commandTimeout, connectionName: name("cmd"), ...sentinel, ...opts.redisOptions });
    watch(cmd, hooks);
    const subs = new ChannelSubscriber(new Redis({ ...base, connectionName: name("sub"), ...sentinel, ...opts.redisOptions }), hooks);
    const via = sentinel.sentinels!.map((s) => `${s.host}:${s.port}`).join(",");
    return { cmd, subs, sharded: false, where: `Redis Sentinel master "${opts.sentinelName}" via ${via}` };
  }
  if (!opts.redisUrl) throw new Error("The Redis backend needs redisUrl, sentinels or clusterNodes");
  parseRedisUrl(opts.redisUrl); // refuse http:// and friends here too, before ioredis reads them as a socket path
  const cmd = new Redis(opts.redisUrl, { ...base, ...pipelined, commandTimeout, connectionName: name("cmd"), ...opts.redisOptions });
  watch(cmd, hooks);
  const subs = new ChannelSubscriber(new Redis(opts.redisUrl, { ...base, connectionName: name("sub"), ...opts.redisOptions }), hooks);
  return { cmd, subs, sharded: false, where: `Redis at ${redact(opts.redisUrl)}` };
}
