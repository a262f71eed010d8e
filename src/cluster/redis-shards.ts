/**
 * The receiving side of the Redis bus on a Redis Cluster: sharded pub/sub (Redis ≥ 7). A room's
 * channel lives on the master that owns its slot, so each master gets one subscriber
 * connection that SSUBSCRIBEs to the wanted channels of its slots. The slot map comes from the
 * command `Cluster`; whenever it refreshes (periodically, on MOVED, or when a subscriber is told
 * its slot moved), channels follow their slots to the new owners.
 *
 * Own connections rather than ioredis' `shardedSubscribers`: each reconnects with the backend's
 * backoff while its master is away (no reconnection storm), and health can say exactly whether
 * every wanted channel is subscribed.
 * @module
 */
import { Redis, type Cluster, type RedisOptions } from "ioredis";
import { keySlot } from "./redis-keys.ts";
import { endConnection, noop, watch, type SubscriberHooks, type Subscriptions } from "./redis-subscriber.ts";

/** One master's subscriber connection. */
interface Shard {
  conn: Redis;
  /** Every channel assigned to it was subscribed since it last became ready. */
  synced: boolean;
  syncing: boolean;
  /** Failed syncs in a row (the retry backs off). */
  failures: number;
  retry?: ReturnType<typeof setTimeout>;
}

/** SSUBSCRIBE on one connection per cluster master. */
export class ShardSubscribers implements Subscriptions {
  /** master node key (`host:port`) → its subscriber */
  readonly #shards = new Map<string, Shard>();
  /** channel → master node key it is subscribed (or to be subscribed) on */
  readonly #at = new Map<string, string>();
  #closed = false;

  constructor(
    readonly cluster: Cluster,
    readonly options: RedisOptions,
    readonly hooks: SubscriberHooks,
  ) {
    cluster.on("refresh", () => this.#reconcile());
    cluster.on("ready", () => this.#reconcile());
  }

  get ready(): boolean {
    if (this.#shards.size === 0) return false;
    for (const s of this.#shards.values()) if (!s.synced || s.conn.status !== "ready") return false;
    for (const ch of this.hooks.wanted.keys()) if (!this.#at.has(ch)) return false;
    return true;
  }

  subscribe(channel: string): Promise<void> {
    const key = this.#owner(channel);
    if (key === undefined) return Promise.resolve(); // slot map not known yet: placed by the next refresh
    this.#at.set(channel, key);
    const s = this.#shard(key);
    if (s.conn.status !== "ready") return Promise.resolve(); // subscribed when it is ready
    return s.conn.ssubscribe(channel).then(noop, this.hooks.error);
  }

  async unsubscribe(channel: string): Promise<void> {
    const key = this.#at.get(channel);
    this.#at.delete(channel);
    const s = key === undefined ? undefined : this.#shards.get(key);
    if (s?.conn.status === "ready") await s.conn.sunsubscribe(channel).then(noop, this.hooks.error);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const s of this.#shards.values()) clearTimeout(s.retry);
    await Promise.all([...this.#shards.values()].map((s) => endConnection(s.conn)));
  }

  /** The master owning the channel's slot, or undefined before the slot map is known. */
  #owner(channel: string): string | undefined {
    return this.cluster.slots[keySlot(channel)]?.[0];
  }

  /** The subscriber of master `key`, made on first use. */
  #shard(key: string): Shard {
    const s = this.#shards.get(key);
    if (s) return s;
    const colon = key.lastIndexOf(":");
    const conn = new Redis({ ...this.options, host: key.slice(0, colon), port: Number(key.slice(colon + 1)) });
    const shard: Shard = { conn, synced: false, syncing: false, failures: 0 };
    watch(conn, this.hooks, () => (shard.synced = false));
    conn.on("ready", () => this.#sync(key, shard));
    conn.on("smessageBuffer", this.hooks.message);
    // a MOVED reply to SSUBSCRIBE, or the server dropping channels whose slot migrated
    conn.on("moved", () => this.cluster.refreshSlotsCache());
    this.#shards.set(key, shard);
    return shard;
  }

  /** Subscribes every channel assigned to the shard (after it became ready). */
  #sync(key: string, s: Shard): void {
    if (s.syncing) return;
    s.syncing = true;
    const channels: string[] = [];
    for (const [ch, k] of this.#at) if (k === key) channels.push(ch);
    Promise.all(channels.map((ch) => s.conn.ssubscribe(ch))).then(
      () => {
        s.syncing = false;
        s.failures = 0;
        s.synced = s.conn.status === "ready";
        this.hooks.changed();
      },
      (e: Error) => {
        // e.g. the master is still starting: try again soon (and on every refresh or reconnection)
        s.syncing = false;
        this.hooks.error(e);
        clearTimeout(s.retry);
        s.retry = setTimeout(() => {
          if (!this.#closed && this.#shards.get(key) === s && s.conn.status === "ready" && !s.synced) this.#sync(key, s);
        }, Math.min(2_000, 50 * 2 ** Math.min(++s.failures, 6)));
      },
    );
  }

  /** Follows the slot map: a subscriber per master, each wanted channel on its slot's owner. */
  #reconcile(): void {
    if (this.#closed) return;
    const masters = new Set<string>();
    for (const owners of this.cluster.slots) if (owners?.[0]) masters.add(owners[0]);
    if (masters.size === 0) return;
    for (const [key, s] of this.#shards) {
      if (masters.has(key)) continue;
      this.#shards.delete(key); // no longer a master: its channels move below
      clearTimeout(s.retry);
      s.conn.disconnect();
    }
    for (const key of masters) this.#shard(key);
    for (const ch of this.hooks.wanted.keys()) {
      const key = this.#owner(ch);
      const old = this.#at.get(ch);
      if (old === key) continue;
      if (key === undefined) this.#at.delete(ch); // slot not served: placed by a later refresh
      else this.#at.set(ch, key);
      const prev = old === undefined ? undefined : this.#shards.get(old);
      if (prev?.conn.status === "ready") prev.conn.sunsubscribe(ch).catch(this.hooks.error);
      const s = key === undefined ? undefined : this.#shards.get(key);
      if (s?.conn.status === "ready") s.conn.ssubscribe(ch).catch(this.hooks.error);
    }
    for (const [key, s] of this.#shards) if (s.conn.status === "ready" && !s.synced) this.#sync(key, s);
    this.hooks.changed();
  }
}
