/**
 * The in-memory cluster backend: one {@link MemoryBroker} stands in for Redis, and each
 * in-process "node" gets its own view of the shared state through {@link MemoryBroker.node}.
 * Without REDIS_URL a server runs one node on its own broker.
 *
 * Differences from Redis, by design: the log, world and claims answer synchronously; the
 * history keeps exactly `historySize` entries (Redis: at least) and also drops entries older
 * than `historyTtlMs`; bus frames are delivered on a microtask (or synchronously, or when a
 * test says: `delivery: "manual"`). Time is the injected clock.
 *
 * Files: `memory-broker.ts` (the shared state, delivery queue and {@link MemoryNode}),
 * `memory-bus.ts`, `memory-log.ts`, `memory-world.ts` (world store, claims, room changes),
 * `memory-nodes.ts` (members, node registry).
 * @module
 */
export { MemoryBroker, MemoryNode, type MemoryBrokerOptions, type PendingFrame } from "./memory-broker.ts";
export { MemoryBus } from "./memory-bus.ts";
export { MemoryRoomLog } from "./memory-log.ts";
export { MemoryClaims, MemoryWorld } from "./memory-world.ts";
export { MemoryMembers, MemoryNodes } from "./memory-nodes.ts";
