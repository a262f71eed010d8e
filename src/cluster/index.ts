/**
 * Builds the cluster backend from configuration: Redis when a URL or Redis Cluster nodes are
 * given, else an in-memory broker (one node on its own, or several sharing `broker` in tests).
 * @module
 */
import { MemoryBroker } from "./memory.ts";
import type { RedisBackendOptions } from "./redis.ts";
import type { ClusterBackend } from "./types.ts";

export { MemoryBroker, MemoryNode, type PendingFrame } from "./memory.ts";
export { CLUSTER_DEFAULTS, ClusterUnavailableError } from "./shared.ts";
export type * from "./types.ts";

/**
 * What {@link createClusterBackend} needs: the Redis options (see {@link RedisBackendOptions};
 * the server maps REDIS_URL, REDIS_CLUSTER_NODES, REDIS_PREFIX, NODE_TTL_MS and the history
 * settings onto them) plus the memory-only ones. Without `redisUrl` and `clusterNodes` the
 * backend is in memory.
 */
export interface ClusterOptions extends RedisBackendOptions {
  /** Memory only: share this broker (several nodes in one process). */
  broker?: MemoryBroker;
  /** Memory only: when bus frames reach other nodes. @default "microtask" */
  delivery?: "sync" | "microtask" | "manual";
}

/**
 * The memory or Redis backend. With `redisUrl` or `clusterNodes` (an empty list or string counts
 * as none) it resolves once Redis answers.
 * @throws {ClusterUnavailableError} when Redis is not reachable within `connectTimeoutMs`.
 */
export async function createClusterBackend(opts: ClusterOptions): Promise<ClusterBackend> {
  const nodes = opts.clusterNodes;
  const clusterNodes = (typeof nodes === "string" ? nodes.trim() !== "" : !!nodes?.length) ? nodes : undefined;
  if (opts.redisUrl || clusterNodes) {
    // loaded only when used, so a memory-only server never loads ioredis
    const { createRedisBackend } = await import("./redis.ts");
    return createRedisBackend({ ...opts, clusterNodes });
  }
  const broker = opts.broker ?? new MemoryBroker(opts);
  return broker.node(opts.nodeId);
}
