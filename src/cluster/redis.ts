/**
 * The Redis cluster backend (ioredis): a bus over per-room channels, the room log as one Lua
 * script per append (room change + seq + history + publish, atomically), and the rooms' world,
 * holds and members in per-room hashes.
 * It runs on one Redis server (`redisUrl`) or on a Redis Cluster (`clusterNodes`, Redis ≥ 7).
 *
 * One Redis server: two connections per node, `cmd` for every command (publishes, scripts,
 * presence — one connection, so what one node sends arrives in the order it was sent) and
 * `sub` for SUBSCRIBE. Neither queues while Redis is away (`enableOfflineQueue: false`,
 * `maxRetriesPerRequest: 0`): bus frames are dropped and counted, the other calls reject at
 * once with {@link ClusterUnavailableError}, and the subscriptions are restored when Redis
 * returns.
 *
 * Redis Cluster: `cmd` is an ioredis `Cluster` (one connection per master, each command sent
 * to the owner of its keys' slot), frames go out with SPUBLISH (also inside the append script)
 * and each master has one subscriber connection for SSUBSCRIBE (see `redis-shards.ts`). A room's
 * channel and keys share one slot, so what a node sends to one room still arrives in order;
 * across rooms there is no order. Every multi-key script and batch stays within one hash tag.
 * Health is good only while the cluster client is ready and every wanted channel is
 * subscribed; with one master down, calls for its slots fail after ioredis' redirection
 * retries (about 1.6 s) rather than at once.
 *
 * Key layout (prefix `P`, default `graphwiz`; every room key hash-tagged by room so a room's
 * keys share a Redis Cluster slot; room ids must not contain `{` or `}`):
 *
 * | key / channel               | type    | content                                           |
 * |-----------------------------|---------|---------------------------------------------------|
 * | `P:{room}:bus`              | channel | `0xC1 ‖ u8 len ‖ nodeId ‖ frame`, or a tick's frames as `0xC2 ‖ u8 len ‖ nodeId ‖ (varint len ‖ frame)+` (binary; a shard channel on a cluster) |
 * | `P:{room}:log`              | hash    | `epoch`, `seq` (expires `historyTtlMs` after the last append) |
 * | `P:{room}:hist`             | stream  | id `<seq>-0`, field `f` = frame ‖ seq ‖ epoch; `MAXLEN ~ historySize` |
 * | `P:{room}:members`          | hash    | connection id → MemberInfo JSON                   |
 * | `P:{room}:players`          | hash    | client id → encoded PlayerSnapshot                |
 * | `P:{room}:entities`         | hash    | entity id → encoded EntitySnapshot                |
 * | `P:{room}:owners`           | hash    | entity id → owner client id                       |
 * | `P:{room}:holders`          | hash    | client id → holder JSON (user, token, node, conn, detached-until, sessions it took over) |
 * | `P:{room}:sessions`         | hash    | session id → client id                            |
 * | `P:{@nodes}:beats`          | zset    | node id by last heartbeat (ms)                    |
 * | `P:{@nodes}:info`           | hash    | node id → NodeInfo JSON                           |
 * | `P:{@node:<id>}:rooms`      | set     | rooms where the node has members or holds         |
 * | `P:{@node:<id>}:reaper`     | string  | the survivor reaping the node (`SET NX PX`)       |
 * | `P:{@due}:holds`            | zset    | `room LF client LF token` by when its detached window closes |
 * | `P:{room}:control`          | hash    | `lock` → RoomLock JSON, `mute:<client>`, `kick:<client>` → until (redis-control.ts) |
 *
 * Presence keys and a node's room set expire after `presenceTtlMs` unless the node's
 * heartbeats refresh them (garbage protection if a whole cluster vanishes).
 *
 * Files: `redis-connect.ts` (options, clients), `redis-link.ts` (health, command helpers),
 * `redis-subscriber.ts` / `redis-shards.ts` (receiving on one server / per cluster shard),
 * `redis-keys.ts` (names, slots), `redis-bus.ts`, `redis-log.ts`, `redis-world.ts` (world
 * store, claims), `redis-nodes.ts` (members, node registry), `redis-scripts.ts` (Lua).
 * @module
 */
import { systemClock, type Clock } from "../lib/clock.ts";
import { silentLogger } from "../log.ts";
import { RedisBus } from "./redis-bus.ts";
import type { RedisKeys } from "./redis-keys.ts";
import { RedisLink, type RedisBackendOptions } from "./redis-link.ts";
import { RedisRoomLog } from "./redis-log.ts";
import { RedisMembers, RedisNodes } from "./redis-nodes.ts";
import { RedisClaims, RedisWorld } from "./redis-world.ts";
import { RedisControl } from "./redis-control.ts";
import type { BackendStatus, ClusterBackend } from "./types.ts";

export { parseClusterNodes, type RedisBackendOptions } from "./redis-connect.ts";
export { keySlot, RedisKeys } from "./redis-keys.ts";
export { RedisBus, RedisClaims, RedisMembers, RedisNodes, RedisRoomLog, RedisWorld };

/** A node's Redis backends over one set of connections. */
export class RedisBackend implements ClusterBackend {
  readonly kind = "redis" as const;
  readonly nodeId: string;
  readonly bus: RedisBus;
  readonly log: RedisRoomLog;
  readonly world: RedisWorld;
  readonly claims: RedisClaims;
  readonly members: RedisMembers;
  readonly nodes: RedisNodes;
  readonly control: RedisControl;
  readonly #link: RedisLink;

  /** @internal use {@link createRedisBackend} */
  constructor(link: RedisLink, clock: Clock) {
    this.#link = link;
    this.nodeId = link.opts.nodeId;
    this.bus = new RedisBus(link);
    this.log = new RedisRoomLog(link);
    this.world = new RedisWorld(link);
    this.claims = new RedisClaims(link);
    this.members = new RedisMembers(link);
    this.nodes = new RedisNodes(link, clock, this.members);
    this.control = new RedisControl(link, clock);
  }

  /** The key builder (for inspection and tests). */
  get keys(): RedisKeys {
    return this.#link.keys;
  }

  status(): BackendStatus {
    return this.#link.status.get();
  }

  onStatus(cb: (s: BackendStatus) => void): void {
    this.#link.status.on(cb);
  }

  /** Unsubscribes, then closes the connections (pending replies first). */
  async close(): Promise<void> {
    if (this.#link.closed) return;
    await this.bus.close();
    await this.nodes.close();
    await this.#link.close();
  }
}
/**
 * Connects to Redis (or a Redis Cluster) and resolves once commands can be sent and the
 * subscriber side is ready.
 * @throws {ClusterUnavailableError} when Redis is not reachable within `connectTimeoutMs`
 *   (the connections are closed again).
 * @throws {Error} when neither `redisUrl` nor `clusterNodes` is given, or a node is not `host:port`.
 */
export async function createRedisBackend(opts: RedisBackendOptions): Promise<RedisBackend> {
  const link = new RedisLink(opts, opts.log ?? silentLogger);
  const backend = new RedisBackend(link, opts.clock ?? systemClock);
  try {
    await link.ready(opts.readyTimeoutMs ?? opts.connectTimeoutMs ?? 5000);
  } catch (e) {
    await link.close();
    throw e;
  }
  return backend;
}
