/**
 * The Redis backend's connections and their health, shared by one node's bus, room log and
 * presence store: the command client (one connection, or a `Cluster`) and the subscriber side.
 * @module
 */
import type { Cluster, Redis } from "ioredis";
import type { Logger } from "../log.ts";
import { CLUSTER_DEFAULTS, ClusterUnavailableError, envelopeHeader, StatusCell } from "./shared.ts";
import { openClients, type RedisBackendOptions } from "./redis-connect.ts";
import { RedisKeys } from "./redis-keys.ts";
import { APPEND_LUA, HEAD_LUA, LOAD_LUA, READ_LUA, REBASE_LUA, SET_IF_EXISTS_LUA } from "./redis-scripts.ts";
import { CLAIM_LUA, DETACH_LUA, DUE_FIX_LUA, HEARTBEAT_LUA, NODES_LUA, REAP_ROOM_LUA } from "./redis-scripts-claims.ts";
import { endConnection, type Subscriptions } from "./redis-subscriber.ts";

export type { RedisBackendOptions } from "./redis-connect.ts";

/** A script argument: text or bytes. */
type Arg = string | number | Buffer;

/** The script commands defined on the command client (see `redis-scripts.ts`). */
export interface ScriptCommands {
  gwAppendBuffer(...keysAndArgs: Arg[]): Promise<Buffer[]>;
  gwReadBuffer(log: string, hist: string, epoch: number, after: number, limit: number): Promise<Buffer[]>;
  gwHead(log: string, hist: string, epoch: number, ttl: number): Promise<[string | null, string | null]>;
  gwRebase(log: string, hist: string, epoch: number, next: number, ttl: number): Promise<string>;
  gwLoadBuffer(log: string, hist: string, players: string, entities: string, holders: string, epoch: number, ttl: number): Promise<[Buffer[], Buffer[], Buffer[], Buffer[]]>;
  gwSetIfExists(hash: string, field: string, value: Buffer): Promise<number>;
  gwClaim(holders: string, sessions: string, owners: string, clientId: string, json: string, token: string, user: string, sessionId: string, ttl: number, conn: string): Promise<string[]>;
  gwDetach(holders: string, clientId: string, token: string, conn: string, until: number): Promise<string[]>;
  gwDueFix(due: string, entry: string, score: string, next: number | ""): Promise<number>;
  gwReapRoom(members: string, holders: string, sessions: string, nodeId: string, until: number): Promise<[string[], string[], string[]]>;
  gwNodes(beats: string, info: string, cutoff: number): Promise<string[]>;
  gwHeartbeat(beats: string, info: string, nodeId: string, now: number, json: string): Promise<number>;
}

const CONNECTION_ERROR =
  /Stream isn't writeable|Connection is closed|MaxRetriesPerRequest|Command timed out|ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|socket|CLUSTERDOWN|Cluster isn't ready|Too many Cluster redirections|Cluster is (ended|disconnected)|None of startup nodes/i;

/**
 * The connections, their health, the bus counters and the subscriptions wanted. Shared by
 * the bus, the log and the presence store of one node.
 */
export class RedisLink {
  readonly cmd: Redis | Cluster;
  readonly subs: Subscriptions;
  readonly scripts: ScriptCommands;
  readonly keys: RedisKeys;
  readonly status: StatusCell;
  readonly counters = { published: 0, received: 0, dropped: 0, errors: 0, reconnects: 0 };
  /** The node envelope header, prepended to every frame this node publishes. */
  readonly header: Buffer;
  /** channel → room, for every room this node wants to receive. */
  readonly wanted = new Map<string, string>();
  /** Where, for messages (no secrets): `Redis at redis://…` or `Redis Cluster at host:port,…`. */
  readonly where: string;
  /** How frames are published: PUBLISH, or SPUBLISH (sharded pub/sub) on a Redis Cluster. */
  readonly publishCommand: "PUBLISH" | "SPUBLISH";
  onMessage: (room: string, message: Buffer) => void = () => {};
  #everHealthy = false;
  #closed = false;
  #lastError: string | undefined;

  constructor(readonly opts: RedisBackendOptions, readonly log: Logger) {
    this.keys = new RedisKeys(opts.prefix ?? CLUSTER_DEFAULTS.prefix);
    this.header = Buffer.from(envelopeHeader(opts.nodeId));
    const clients = openClients(opts, {
      wanted: this.wanted,
      message: (channel, message) => {
        const room = this.wanted.get(channel.toString());
        if (room !== undefined) this.onMessage(room, message);
      },
      error: (e) => {
        this.counters.errors++;
        this.#lastError = e?.message || String(e);
        this.#evaluate();
      },
      changed: () => this.#evaluate(),
    });
    this.cmd = clients.cmd;
    this.subs = clients.subs;
    this.where = clients.where;
    this.publishCommand = clients.sharded ? "SPUBLISH" : "PUBLISH";
    this.status = new StatusCell({ healthy: false, reason: `Connecting to ${this.where}` });
    const define = (name: string, numberOfKeys: number, lua: string) => this.cmd.defineCommand(name, { numberOfKeys, lua });
    define("gwAppend", 7, APPEND_LUA);
    define("gwRead", 2, READ_LUA);
    define("gwHead", 2, HEAD_LUA);
    define("gwRebase", 2, REBASE_LUA);
    define("gwLoad", 5, LOAD_LUA);
    define("gwSetIfExists", 1, SET_IF_EXISTS_LUA);
    define("gwClaim", 3, CLAIM_LUA);
    define("gwDetach", 1, DETACH_LUA);
    define("gwDueFix", 1, DUE_FIX_LUA);
    define("gwReapRoom", 3, REAP_ROOM_LUA);
    define("gwNodes", 2, NODES_LUA);
    define("gwHeartbeat", 2, HEARTBEAT_LUA);
    this.scripts = this.cmd as unknown as ScriptCommands;
  }

  /** Whether commands can be sent now. */
  get writable(): boolean {
    return this.cmd.status === "ready" && !this.#closed;
  }

  /** Called before each room-log command, so batched bus frames go first (set by the bus). */
  beforeCommand: () => void = () => {};

  /** Publishes one enveloped frame (PUBLISH, or SPUBLISH on a cluster). */
  publish(channel: string, envelope: Buffer): Promise<unknown> {
    return this.publishCommand === "SPUBLISH" ? this.cmd.spublish(channel, envelope) : this.cmd.publish(channel, envelope);
  }

  #evaluate(): void {
    if (this.#closed) return;
    const healthy = this.cmd.status === "ready" && this.subs.ready;
    if (healthy) {
      if (!this.status.get().healthy) {
        if (this.#everHealthy) {
          this.counters.reconnects++;
          this.log.info("cluster_redis_restored", { redis: this.where });
        }
        this.#everHealthy = true;
      }
      this.status.set(true);
      return;
    }
    const reason = this.#everHealthy
      ? `Redis connection lost (${this.where}): ${this.#lastError ?? "connection closed"}`
      : `Connecting to ${this.where}${this.#lastError ? `: ${this.#lastError}` : ""}`;
    if (this.status.get().healthy) this.log.warn("cluster_redis_lost", { redis: this.where, error: this.#lastError });
    this.status.set(false, reason);
  }

  /** Resolves once the command client and every subscription are ready; rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    if (this.status.get().healthy) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new ClusterUnavailableError(`${this.where} is not reachable after ${timeoutMs} ms${this.#lastError ? `: ${this.#lastError}` : ""}`)), timeoutMs);
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
    return new ClusterUnavailableError(this.#closed ? "Cluster backend is closed" : (this.status.get().reason ?? `${this.where} is unavailable`));
  }

  /** Counts a failed command and turns it into a clear error. */
  failure(what: string, e: unknown): Error {
    this.counters.errors++;
    if (e instanceof ClusterUnavailableError) return e;
    const msg = (e as Error)?.message ?? String(e);
    if (!this.writable || CONNECTION_ERROR.test(msg)) return new ClusterUnavailableError(`Redis ${what} failed, Redis unavailable (${this.where}): ${msg}`, { cause: e });
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
    await Promise.all([endConnection(this.cmd), this.subs.close()]);
  }
}
