/**
 * How the server describes its set-up to operators: the URL it listens on and the cluster
 * backend it uses (for the `listening` log line, `--check-config`, `/health` and messages).
 * Nothing here contains a secret.
 * @module
 */
import type { Config } from "./config.ts";
import { redact } from "./config-values.ts";

/** The cluster backend the settings select. */
export type ClusterMode = "memory" | "redis" | "redis-cluster" | "redis-sentinel";

/** Which backend the settings select: Sentinel, Cluster, one Redis server, or memory. */
export function clusterMode(config: Config): ClusterMode {
  if (config.redisSentinels.length) return "redis-sentinel";
  if (config.redisClusterNodes.length) return "redis-cluster";
  return config.redisUrl ? "redis" : "memory";
}

/** `memory (single instance)`, `Redis at redis://…`, `Redis Cluster at a:7000,…`, `Redis Sentinel master "m" via a:26379,…`. */
export function describeCluster(config: Config): string {
  switch (clusterMode(config)) {
    case "redis-sentinel":
      return `Redis Sentinel master "${config.redisSentinelName}" via ${config.redisSentinels.join(",")}`;
    case "redis-cluster":
      return `Redis Cluster at ${config.redisClusterNodes.join(",")}`;
    case "redis":
      return `Redis at ${redact(config.redisUrl)}`;
    default:
      return "memory (single instance)";
  }
}

/** The URL to reach the server: a wildcard bind address becomes loopback; IPv6 in brackets. */
export function listenUrl(host: string, port: number): string {
  const h = host === "0.0.0.0" ? "127.0.0.1" : host === "::" || host === "[::]" ? "[::1]" : host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `http://${h}:${port}`;
}
