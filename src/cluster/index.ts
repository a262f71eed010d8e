/**
 * Builds the cluster backend from configuration: Redis when a URL is given, else an in-memory
 * broker (one node on its own, or several sharing `broker` in tests).
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../log.ts";
import { MemoryBroker } from "./memory.ts";
import type { RedisBackendOptions } from "./redis.ts";
import type { ClusterBackend } from "./types.ts";

export { MemoryBroker, MemoryNode, MemoryBus, MemoryRoomLog, MemoryPresence } from "./memory.ts";
export { CLUSTER_DEFAULTS, ClusterUnavailableError } from "./shared.ts";
export type * from "./types.ts";

/** What {@link createClusterBackend} needs. */
export interface ClusterOptions {
  /** REDIS_URL; without it the backend is in memory. */
  redisUrl?: string;
  /** REDIS_PREFIX. @default "graphwiz" */
  prefix?: string;
  /** This instance's id, unique in the cluster (1–255 bytes). */
  nodeId: string;
  /** NODE_TTL_MS. @default 15000 */
  nodeTtlMs?: number;
  /** Reliable messages kept per room. @default 1000 */
  historySize?: number;
  /** A room's log is forgotten (new epoch) after this long without an append (RESUME_WINDOW). @default 120000 */
  historyTtlMs?: number;
  /** Redis only: presence keys expire unless refreshed by heartbeats. @default 1 day */
  presenceTtlMs?: number;
  clock?: Clock;
  log?: Logger;
  /** Memory only: share this broker (several nodes in one process). */
  broker?: MemoryBroker;
  /** Memory only: when bus frames reach other nodes. @default "microtask" */
  delivery?: "sync" | "microtask";
  /** Redis only: see {@link RedisBackendOptions}. */
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  reconnectMaxDelayMs?: number;
  maxInflight?: number;
  redisOptions?: RedisBackendOptions["redisOptions"];
}

/**
 * The memory or Redis backend. With `redisUrl` it resolves once Redis answers.
 * @throws {ClusterUnavailableError} when Redis is not reachable within `connectTimeoutMs`.
 */
export async function createClusterBackend(opts: ClusterOptions): Promise<ClusterBackend> {
  if (opts.redisUrl) {
    // loaded only when used, so a memory-only server never loads ioredis
    const { createRedisBackend } = await import("./redis.ts");
    return createRedisBackend({ ...opts, redisUrl: opts.redisUrl });
  }
  const broker = opts.broker ?? new MemoryBroker(opts);
  return broker.node(opts.nodeId);
}
