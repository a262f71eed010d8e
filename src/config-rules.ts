/**
 * The rules between settings, checked after each value parsed on its own: things that are
 * valid alone but wrong together (a TTL shorter than two heartbeats, a soft limit above the
 * hard one, JWT options without a key, two Redis modes at once). Each rule names the variable
 * to change. docs/config.md lists them under "Rules between settings".
 * @module
 */

/** The parsed values a rule reads (a subset of `Config`, to keep this file free of the table). */
export interface RuleInput {
  nodeHeartbeatMs: number;
  nodeTtlMs: number;
  slowConsumerSoftBytes: number;
  slowConsumerHardBytes: number;
  maxRoomStateBytes: number;
  nodeEnv: string;
}

/** Key sources: exactly one makes the server authenticate. */
export const KEY_VARS = ["JWT_SECRET", "JWT_PUBLIC_KEY", "JWT_JWKS_URL"] as const;
/** Settings that only mean something with a key. */
const NEEDS_KEY = ["JWT_ALGORITHMS", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_LEEWAY_S", "AUTH_MODE", "AUTH_TIMEOUT_MS"];
/** Settings that only mean something with REDIS_SENTINELS. */
const NEEDS_SENTINELS = ["REDIS_SENTINEL_NAME", "REDIS_SENTINEL_USERNAME", "REDIS_SENTINEL_PASSWORD"];
const KEYS = "JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL";

/** A broken rule: the variable to change and why (completes "Invalid VARIABLE: …"). */
export interface Broken {
  variable: string;
  reason: string;
}

/**
 * The first rule the settings break, or undefined. `isSet(name)` tells whether a variable was
 * given (non-empty) rather than left at its default.
 */
export function brokenRule(c: RuleInput, isSet: (name: string) => boolean): Broken | undefined {
  if (c.nodeTtlMs < 2 * c.nodeHeartbeatMs) {
    return { variable: "NODE_TTL_MS", reason: `must be at least twice NODE_HEARTBEAT_MS (${c.nodeHeartbeatMs}), so one late heartbeat does not declare an instance dead; got ${c.nodeTtlMs}` };
  }
  if (c.slowConsumerSoftBytes >= c.slowConsumerHardBytes) {
    return { variable: "SLOW_CONSUMER_SOFT_BYTES", reason: `must be below SLOW_CONSUMER_HARD_BYTES (${c.slowConsumerHardBytes}), got ${c.slowConsumerSoftBytes}` };
  }
  if (2 * c.maxRoomStateBytes > c.slowConsumerHardBytes) {
    return { variable: "MAX_ROOM_STATE_BYTES", reason: `must be at most half SLOW_CONSUMER_HARD_BYTES (${c.slowConsumerHardBytes}), so every joiner's welcome fits its send queue; got ${c.maxRoomStateBytes}` };
  }
  const keys = KEY_VARS.filter(isSet);
  if (keys.length > 1) return { variable: keys[1]!, reason: `set only one of ${KEYS} (got ${keys.join(" and ")})` };
  if (keys.length === 0) {
    if (c.nodeEnv === "production") {
      return { variable: "NODE_ENV", reason: `production needs ${KEYS} (refusing to run without authentication)` };
    }
    const orphan = NEEDS_KEY.find(isSet);
    if (orphan) return { variable: orphan, reason: `only applies with a key, and none is set: set ${KEYS}, or unset ${orphan}` };
  }
  if (isSet("REDIS_SENTINELS")) {
    if (isSet("REDIS_CLUSTER_NODES")) return { variable: "REDIS_SENTINELS", reason: "set either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both" };
    if (!isSet("REDIS_SENTINEL_NAME")) return { variable: "REDIS_SENTINEL_NAME", reason: "is required with REDIS_SENTINELS (the master group name the Sentinels monitor)" };
  } else {
    const orphan = NEEDS_SENTINELS.find(isSet);
    if (orphan) return { variable: orphan, reason: "only applies with REDIS_SENTINELS, and it is not set" };
  }
  return undefined;
}
