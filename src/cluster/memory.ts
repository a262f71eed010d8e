/**
 * The in-memory cluster backend: one {@link MemoryBroker} stands in for Redis, and each
 * in-process "node" (a hub) gets its own bus, room log and presence view of the shared state
 * through {@link MemoryBroker.node}. Without REDIS_URL a server runs one node on its own broker.
 *
 * Differences from Redis, by design: `RoomLog.append/read/head` answer synchronously; the
 * history keeps exactly `historySize` entries (Redis: at least) and also drops entries older
 * than `historyTtlMs`; bus frames are delivered on a microtask (or synchronously with
 * `delivery: "sync"`), and {@link MemoryBroker.flush} delivers pending ones at once. Session
 * records expire by the injected clock.
 *
 * Files: `memory-broker.ts` (the shared state, delivery queue and {@link MemoryNode}),
 * `memory-bus.ts`, `memory-log.ts`, `memory-presence.ts`.
 * @module
 */
export { MemoryBroker, MemoryNode, type MemoryBrokerOptions } from "./memory-broker.ts";
export { MemoryBus } from "./memory-bus.ts";
export { MemoryRoomLog } from "./memory-log.ts";
export { MemoryPresence } from "./memory-presence.ts";
