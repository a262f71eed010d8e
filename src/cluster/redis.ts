/**
 * The Redis cluster backend (ioredis): a bus over per-room channels, the room log as one Lua
 * script per append (seq + history + publish, atomically), and presence in per-room hashes.
 *
 * Two connections per node: `cmd` for every command (publishes, scripts, presence — one
 * connection, so what one node sends arrives in the order it was sent) and `sub` for
 * SUBSCRIBE. Neither queues while Redis is away (`enableOfflineQueue: false`,
 * `maxRetriesPerRequest: 0`): bus frames are dropped and counted, the other calls reject at
 * once with {@link ClusterUnavailableError}, and the subscriptions are restored when Redis
 * returns.
 *
 * Key layout (prefix `P`, default `graphwiz`; every room key hash-tagged by room so a room's
 * keys share a Redis Cluster slot; room ids must not contain `{` or `}`):
 *
 * | key / channel               | type    | content                                           |
 * |-----------------------------|---------|---------------------------------------------------|
 * | `P:{room}:bus`              | channel | `0xC1 ‖ u8 len ‖ nodeId ‖ frame` (binary)         |
 * | `P:{room}:log`              | hash    | `epoch`, `seq` (expires `historyTtlMs` after the last append) |
 * | `P:{room}:hist`             | stream  | id `<seq>-0`, field `f` = frame ‖ seq ‖ epoch; `MAXLEN ~ historySize` |
 * | `P:{room}:members`          | hash    | connection id → MemberInfo JSON                   |
 * | `P:{room}:players`          | hash    | client id → encoded PlayerSnapshot                |
 * | `P:{room}:entities`         | hash    | entity id → encoded EntitySnapshot                |
 * | `P:{room}:owners`           | hash    | entity id → owner client id                       |
 * | `P:{@nodes}:beats`          | zset    | node id by last heartbeat (ms)                    |
 * | `P:{@nodes}:info`           | hash    | node id → NodeInfo JSON                           |
 * | `P:{@node:<id>}:rooms`      | set     | rooms where the node has members                  |
 * | `P:{@node:<id>}:reaper`     | string  | the survivor reaping the node (`SET NX PX`)       |
 * | `P:{@session:<id>}:record`  | string  | SessionRecord JSON, `PX` = the TTL of the last put |
 *
 * Presence keys and a node's room set expire after `presenceTtlMs` unless the node's
 * heartbeats refresh them (garbage protection if a whole cluster vanishes).
 * @module
 */
import { Redis, type RedisOptions } from "ioredis";
import { systemClock, type Clock } from "../core/clock.ts";
import { silentLogger, type Logger } from "../log.ts";
import {
  CLUSTER_DEFAULTS,
  ClusterUnavailableError,
  decodeSession,
  encodeSession,
  envelopeHeader,
  EnvelopeReader,
  randomEpoch,
  sequenced,
  StatusCell,
  validSessionId,
} from "./shared.ts";
import { APPEND_LUA, HEAD_LUA, HEARTBEAT_LUA, NODES_LUA, READ_LUA, REAP_ROOM_LUA } from "./redis-scripts.ts";
import type {
  BackendStatus,
  BusHandler,
  ClusterBackend,
  ClusterBus,
  DeadNode,
  LogEntry,
  MemberInfo,
  NodeInfo,
  PresenceStore,
  RoomLog,
  SessionRecord,
} from "./types.ts";

/** Options of {@link createRedisBackend}. */
export interface RedisBackendOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  redisUrl: string;
  /** This instance's id (1–255 bytes of UTF-8), unique in the cluster. */
  nodeId: string;
  /** @default "graphwiz" */
  prefix?: string;
  /** @default CLUSTER_DEFAULTS.nodeTtlMs */
  nodeTtlMs?: number;
  /** @default CLUSTER_DEFAULTS.historySize */
  historySize?: number;
  /** @default CLUSTER_DEFAULTS.historyTtlMs */
  historyTtlMs?: number;
  /** @default CLUSTER_DEFAULTS.presenceTtlMs */
  presenceTtlMs?: number;
  /** Time for heartbeats and reaping. @default systemClock */
  clock?: Clock;
  /** @default silentLogger */
  log?: Logger;
  /** How long creation waits for Redis before it rejects. @default 5000 */
  connectTimeoutMs?: number;
  /** A command without a reply after this long rejects. @default 5000 */
  commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts. @default 2000 */
  reconnectMaxDelayMs?: number;
  /** Most bus frames awaiting Redis's reply before further ones are dropped. @default 100000 */
  maxInflight?: number;
  /** Extra ioredis options (applied last). */
  redisOptions?: Partial<RedisOptions>;
}

/** The script commands defined on the command connection. */
interface ScriptCommands {
  gwAppend(log: string, hist: string, channel: string, header: Uint8Array, frame: Uint8Array, epoch: number, size: number, ttl: number): Promise<[string, string]>;
  gwReadBuffer(log: string, hist: string, epoch: number, after: number, limit: number): Promise<Uint8Array[]>;
  gwHead(log: string, hist: string, epoch: number, ttl: number): Promise<[string | null, string | null]>;
  gwReapRoom(members: string, players: string, entities: string, owners: string, nodeId: string): Promise<[string[], string[], string[]]>;
  gwNodes(beats: string, info: string, cutoff: number): Promise<string[]>;
  gwHeartbeat(beats: string, info: string, nodeId: string, now: number, json: string): Promise<number>;
}

/** Keys and channel of one room. */
interface RoomKeys {
  channel: string;
  log: string;
  hist: string;
  members: string;
  players: string;
  entities: string;
  owners: string;
}

/** Builds (and caches) key names; see the module comment for the layout. */
export class RedisKeys {
  readonly #rooms = new Map<string, RoomKeys>();
  readonly beats: string;
  readonly info: string;

  constructor(readonly prefix: string) {
    if (!prefix || /[{}]/.test(prefix)) throw new Error(`Redis prefix must be non-empty and without braces, got "${prefix}"`);
    this.beats = `${prefix}:{@nodes}:beats`;
    this.info = `${prefix}:{@nodes}:info`;
  }
  room(room: string): RoomKeys {
    let k = this.#rooms.get(room);
    if (k) return k;
    const base = `${this.prefix}:{${room}}:`;
    k = {
      channel: `${base}bus`,
      log: `${base}log`,
      hist: `${base}hist`,
      members: `${base}members`,
      players: `${base}players`,
      entities: `${base}entities`,
      owners: `${base}owners`,
    };
    if (this.#rooms.size >= 10_000) this.#rooms.clear();
    this.#rooms.set(room, k);
    return k;
  }
  nodeRooms(nodeId: string): string {
    return `${this.prefix}:{@node:${nodeId}}:rooms`;
  }
  reaper(nodeId: string): string {
    return `${this.prefix}:{@node:${nodeId}}:reaper`;
  }
  /** One session's key: its own hash tag (sessions spread over a cluster), never a room's (room ids have no `@`). */
  session(id: string): string {
    return `${this.prefix}:{@session:${id}}:record`;
  }
}

/** A view of `u8` as a Buffer (no copy) — ioredis sends only Buffers as binary arguments. */
function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** `redis://user:secret@host` → `redis://user:***@host`, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

const CONNECTION_ERROR = /Stream isn't writeable|Connection is closed|MaxRetriesPerRequest|Command timed out|ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|socket/i;

/**
 * The two connections, their health, the bus counters and the subscriptions wanted. Shared by
 * the bus, the log and the presence store of one node.
 */
class RedisLink {
  readonly cmd: Redis;
  readonly sub: Redis;
  readonly scripts: ScriptCommands;
  readonly keys: RedisKeys;
  readonly status: StatusCell;
  readonly counters = { published: 0, received: 0, dropped: 0, errors: 0, reconnects: 0 };
  /** The node envelope header, prepended to every frame this node publishes. */
  readonly header: Buffer;
  /** channel → room, for every room this node wants to receive. */
  readonly wanted = new Map<string, string>();
  readonly url: string;
  onMessage: (room: string, message: Buffer) => void = () => {};
  #subReady = false;
  #everHealthy = false;
  #closed = false;
  #lastError: string | undefined;

  constructor(readonly opts: RedisBackendOptions, readonly log: Logger) {
    this.url = redact(opts.redisUrl);
    this.keys = new RedisKeys(opts.prefix ?? CLUSTER_DEFAULTS.prefix);
    this.header = Buffer.from(envelopeHeader(opts.nodeId));
    this.status = new StatusCell({ healthy: false, reason: `Connecting to Redis at ${this.url}` });
    const maxDelay = opts.reconnectMaxDelayMs ?? 2000;
    const base: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      retryStrategy: (times) => Math.min(maxDelay, 25 * 2 ** Math.min(times, 10)) + Math.floor(Math.random() * 25),
      disableClientInfo: true,
    };
    this.cmd = new Redis(opts.redisUrl, { ...base, commandTimeout: opts.commandTimeoutMs ?? 5000, connectionName: `graphwiz-cmd-${opts.nodeId}`.replace(/\s/g, "_"), ...opts.redisOptions });
    this.sub = new Redis(opts.redisUrl, { ...base, connectionName: `graphwiz-sub-${opts.nodeId}`.replace(/\s/g, "_"), ...opts.redisOptions });
    const define = (name: string, numberOfKeys: number, lua: string) => this.cmd.defineCommand(name, { numberOfKeys, lua });
    define("gwAppend", 2, APPEND_LUA);
    define("gwRead", 2, READ_LUA);
    define("gwHead", 2, HEAD_LUA);
    define("gwReapRoom", 4, REAP_ROOM_LUA);
    define("gwNodes", 2, NODES_LUA);
    define("gwHeartbeat", 2, HEARTBEAT_LUA);
    this.scripts = this.cmd as unknown as ScriptCommands;

    for (const conn of [this.cmd, this.sub]) {
      conn.on("error", (e: Error) => {
        this.counters.errors++;
        this.#lastError = e?.message || String(e);
        this.#evaluate();
      });
      conn.on("close", () => this.#evaluate());
      conn.on("end", () => this.#evaluate());
      conn.on("reconnecting", () => this.#evaluate());
    }
    this.cmd.on("ready", () => this.#evaluate());
    this.sub.on("close", () => (this.#subReady = false));
    this.sub.on("ready", () => this.#resubscribe());
    this.sub.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      const room = this.wanted.get(channel.toString());
      if (room !== undefined) this.onMessage(room, message);
    });
  }

  /** Whether commands can be sent now. */
  get writable(): boolean {
    return this.cmd.status === "ready" && !this.#closed;
  }

  /** Subscribes every wanted channel on a fresh subscriber connection, then reports healthy. */
  #resubscribe(): void {
    const channels = [...this.wanted.keys()];
    const done = () => {
      this.#subReady = this.sub.status === "ready";
      this.#evaluate();
    };
    if (channels.length === 0) return done();
    this.sub.subscribe(...channels).then(done, (e: Error) => {
      // the connection dropped again; the next "ready" retries
      this.counters.errors++;
      this.#lastError = e.message;
      this.#evaluate();
    });
  }

  #evaluate(): void {
    if (this.#closed) return;
    const healthy = this.cmd.status === "ready" && this.sub.status === "ready" && this.#subReady;
    if (healthy) {
      if (!this.status.get().healthy) {
        if (this.#everHealthy) {
          this.counters.reconnects++;
          this.log.info("cluster_redis_restored", { url: this.url });
        }
        this.#everHealthy = true;
      }
      this.status.set(true);
      return;
    }
    const reason = this.#everHealthy
      ? `Redis connection lost (${this.url}): ${this.#lastError ?? "connection closed"}`
      : `Connecting to Redis at ${this.url}${this.#lastError ? `: ${this.#lastError}` : ""}`;
    if (this.status.get().healthy) this.log.warn("cluster_redis_lost", { url: this.url, error: this.#lastError });
    this.status.set(false, reason);
  }

  /** Resolves once both connections are ready; rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    if (this.status.get().healthy) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new ClusterUnavailableError(`Redis at ${this.url} is not reachable after ${timeoutMs} ms${this.#lastError ? `: ${this.#lastError}` : ""}`)), timeoutMs);
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
    return new ClusterUnavailableError(this.#closed ? "Cluster backend is closed" : (this.status.get().reason ?? `Redis at ${this.url} is unavailable`));
  }

  /** Counts a failed command and turns it into a clear error. */
  failure(what: string, e: unknown): Error {
    this.counters.errors++;
    if (e instanceof ClusterUnavailableError) return e;
    const msg = (e as Error)?.message ?? String(e);
    if (!this.writable || CONNECTION_ERROR.test(msg)) return new ClusterUnavailableError(`Redis ${what} failed, Redis unavailable (${this.url}): ${msg}`, { cause: e });
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
    const end = async (r: Redis) => {
      if (r.status === "ready") {
        try {
          await Promise.race([r.quit(), new Promise((_, rej) => setTimeout(() => rej(new Error("quit timeout")), 1000))]);
          return;
        } catch {
          // fall through to a hard disconnect
        }
      }
      r.disconnect();
    };
    await Promise.all([end(this.cmd), end(this.sub)]);
  }
}

/** Per-room publish/subscribe over Redis channels. */
export class RedisBus implements ClusterBus {
  readonly nodeId: string;
  readonly counters: RedisLink["counters"];
  readonly #link: RedisLink;
  readonly #reader = new EnvelopeReader();
  readonly #maxInflight: number;
  #handler: BusHandler | null = null;
  #inflight = 0;
  /** SUBSCRIBE commands in flight, so a repeated subscribe resolves when the first does. */
  readonly #pending = new Map<string, Promise<void>>();

  constructor(link: RedisLink) {
    this.#link = link;
    this.nodeId = link.opts.nodeId;
    this.counters = link.counters;
    this.#maxInflight = link.opts.maxInflight ?? 100_000;
    link.onMessage = this.#onMessage;
  }

  /**
   * Starts receiving the room. While Redis is away it resolves at once: the room is
   * remembered and subscribed when Redis is back.
   */
  subscribe(room: string): Promise<void> {
    const link = this.#link;
    if (link.closed) return Promise.resolve();
    const ch = link.keys.room(room).channel;
    if (link.wanted.has(ch)) return this.#pending.get(ch) ?? Promise.resolve();
    link.wanted.set(ch, room);
    if (link.sub.status !== "ready") return Promise.resolve();
    const p = link.sub.subscribe(ch).then(
      () => {},
      () => {
        // the connection dropped meanwhile: the next "ready" subscribes every wanted channel
        link.counters.errors++;
      },
    );
    this.#pending.set(ch, p);
    p.then(() => {
      if (this.#pending.get(ch) === p) this.#pending.delete(ch);
    });
    return p;
  }

  async unsubscribe(room: string): Promise<void> {
    const link = this.#link;
    const ch = link.keys.room(room).channel;
    if (!link.wanted.delete(ch)) return;
    this.#pending.delete(ch);
    if (link.sub.status !== "ready" || link.closed) return;
    try {
      await link.sub.unsubscribe(ch);
    } catch {
      link.counters.errors++;
    }
  }

  publish(room: string, frame: Uint8Array): void {
    const link = this.#link;
    if (!link.writable || this.#inflight >= this.#maxInflight) {
      this.counters.dropped++;
      return;
    }
    try {
      const h = link.header;
      const env = Buffer.allocUnsafe(h.length + frame.length);
      env.set(h, 0);
      env.set(frame, h.length);
      link.cmd.publish(link.keys.room(room).channel, env).then(this.#sent, this.#lost);
      this.#inflight++;
      this.counters.published++;
    } catch {
      this.counters.dropped++;
      this.counters.errors++;
    }
  }

  readonly #sent = (): void => {
    this.#inflight--;
  };
  readonly #lost = (): void => {
    this.#inflight--;
    this.counters.dropped++;
  };

  readonly #onMessage = (room: string, message: Buffer): void => {
    const from = this.#reader.sender(message);
    if (from === null) {
      this.counters.errors++;
      return;
    }
    if (from === this.nodeId) return;
    this.counters.received++;
    const h = this.#handler;
    if (!h) return;
    try {
      h(room, message.subarray(EnvelopeReader.payloadOffset(message)), from);
    } catch (e) {
      this.counters.errors++;
      this.#link.log.error("cluster_handler_error", { room, from, error: (e as Error)?.message ?? String(e) });
    }
  };

  onFrame(handler: BusHandler): void {
    this.#handler = handler;
  }
  status(): BackendStatus {
    return this.#link.status.get();
  }
  onStatus(cb: (s: BackendStatus) => void): void {
    this.#link.status.on(cb);
  }
  /** Rooms this node wants to receive. */
  get rooms(): string[] {
    return [...this.#link.wanted.values()];
  }
  async close(): Promise<void> {
    for (const room of this.rooms) await this.unsubscribe(room);
  }
}

/** The room log: one Lua script per append. */
export class RedisRoomLog implements RoomLog {
  readonly #link: RedisLink;
  readonly #size: number;
  readonly #ttl: number;

  constructor(link: RedisLink) {
    this.#link = link;
    this.#size = Math.max(1, link.opts.historySize ?? CLUSTER_DEFAULTS.historySize);
    this.#ttl = link.opts.historyTtlMs ?? CLUSTER_DEFAULTS.historyTtlMs;
  }

  /** Rejects at once with {@link ClusterUnavailableError} while Redis is away (deliver locally instead). */
  append(room: string, frame: Uint8Array): Promise<LogEntry> {
    const link = this.#link;
    if (!link.writable) return Promise.reject(link.unavailable());
    const k = link.keys.room(room);
    link.counters.published++;
    return link.scripts.gwAppend(k.log, k.hist, k.channel, link.header, asBuffer(frame), randomEpoch(), this.#size, this.#ttl).then(
      (r) => {
        const seq = Number(r[0]);
        const epoch = Number(r[1]);
        return { seq, epoch, frame: sequenced(frame, seq, epoch) };
      },
      (e) => {
        throw link.failure("room log append", e);
      },
    );
  }

  async read(room: string, epoch: number, afterSeq: number, limit: number): Promise<LogEntry[] | null> {
    const k = this.#link.keys.room(room);
    const r = await this.#link.run("room log read", () => this.#link.scripts.gwReadBuffer(k.log, k.hist, epoch, afterSeq, Math.max(1, Math.floor(limit))));
    if (r.length < 3 || Number(r[0]!.toString()) !== epoch) return null;
    const out: LogEntry[] = [];
    if (limit < 1) return out;
    for (let i = 3; i + 1 < r.length; i += 2) out.push({ seq: parseInt(r[i]!.toString(), 10), epoch, frame: r[i + 1]! });
    return out;
  }

  async head(room: string): Promise<{ epoch: number; seq: number }> {
    const k = this.#link.keys.room(room);
    const r = await this.#link.run("room log head", () => this.#link.scripts.gwHead(k.log, k.hist, randomEpoch(), this.#ttl));
    return { epoch: Number(r[0] ?? 0), seq: Number(r[1] ?? 0) };
  }
}

/** Members, world state and node liveness in Redis hashes. */
export class RedisPresence implements PresenceStore {
  readonly #link: RedisLink;
  readonly #clock: Clock;
  readonly #nodeTtl: number;
  readonly #presenceTtl: number;
  readonly nodeId: string;
  /** Rooms where this node added members, with their connection ids (for TTL refresh and the node's room set). */
  readonly #local = new Map<string, Set<string>>();
  #beaten = false;

  constructor(link: RedisLink, clock: Clock) {
    this.#link = link;
    this.#clock = clock;
    this.nodeId = link.opts.nodeId;
    this.#nodeTtl = link.opts.nodeTtlMs ?? CLUSTER_DEFAULTS.nodeTtlMs;
    this.#presenceTtl = link.opts.presenceTtlMs ?? CLUSTER_DEFAULTS.presenceTtlMs;
  }

  async addMember(m: MemberInfo): Promise<void> {
    const { cmd, keys } = this.#link;
    const k = keys.room(m.room_id);
    const mine = m.node_id === this.nodeId;
    const nodeRooms = keys.nodeRooms(m.node_id);
    const p = cmd.pipeline().hset(k.members, m.connection_id, JSON.stringify(m)).pexpire(k.members, this.#presenceTtl);
    p.sadd(nodeRooms, m.room_id).pexpire(nodeRooms, this.#presenceTtl);
    await this.#link.exec("add member", p);
    if (mine) {
      let set = this.#local.get(m.room_id);
      if (!set) this.#local.set(m.room_id, (set = new Set()));
      set.add(m.connection_id);
    }
  }

  async removeMember(room: string, connectionId: string): Promise<void> {
    const { cmd, keys } = this.#link;
    const set = this.#local.get(room);
    const last = !!set && set.delete(connectionId) && set.size === 0;
    if (last) this.#local.delete(room);
    const p = cmd.pipeline().hdel(keys.room(room).members, connectionId);
    if (last) p.srem(keys.nodeRooms(this.nodeId), room);
    await this.#link.exec("remove member", p);
  }

  async members(room: string): Promise<MemberInfo[]> {
    const k = this.#link.keys.room(room);
    const vals = await this.#link.run("list members", () => this.#link.cmd.hvals(k.members));
    const out: MemberInfo[] = [];
    for (const v of vals) {
      try {
        out.push(JSON.parse(v) as MemberInfo);
      } catch {
        this.#link.counters.errors++;
      }
    }
    return out;
  }

  async totalConnections(): Promise<number> {
    let sum = 0;
    for (const n of await this.nodes()) sum += n.connections || 0;
    return sum;
  }

  async setPlayer(room: string, clientId: string, snapshot: Uint8Array): Promise<void> {
    const k = this.#link.keys.room(room);
    await this.#link.run("set player", () => this.#link.cmd.hset(k.players, clientId, asBuffer(snapshot)));
  }
  async removePlayer(room: string, clientId: string): Promise<void> {
    const k = this.#link.keys.room(room);
    await this.#link.run("remove player", () => this.#link.cmd.hdel(k.players, clientId));
  }
  async setEntity(room: string, entityId: string, ownerClientId: string, snapshot: Uint8Array): Promise<void> {
    const k = this.#link.keys.room(room);
    await this.#link.exec("set entity", this.#link.cmd.multi().hset(k.entities, entityId, asBuffer(snapshot)).hset(k.owners, entityId, ownerClientId));
  }
  async removeEntity(room: string, entityId: string): Promise<void> {
    const k = this.#link.keys.room(room);
    await this.#link.exec("remove entity", this.#link.cmd.multi().hdel(k.entities, entityId).hdel(k.owners, entityId));
  }
  async world(room: string): Promise<{ players: Uint8Array[]; entities: Uint8Array[] }> {
    const k = this.#link.keys.room(room);
    const [players, entities] = (await this.#link.exec("read world", this.#link.cmd.pipeline().hvalsBuffer(k.players).hvalsBuffer(k.entities))) as [Buffer[], Buffer[]];
    return { players, entities };
  }

  async heartbeat(node: NodeInfo): Promise<{ forgotten: boolean }> {
    const { keys, scripts } = this.#link;
    const now = this.#clock.now();
    const json = JSON.stringify({ ...node, last_heartbeat: now });
    const added = await this.#link.run("heartbeat", () => scripts.gwHeartbeat(keys.beats, keys.info, node.node_id, now, json));
    const forgotten = this.#beaten && added === 1;
    this.#beaten = true;
    if (this.#local.size > 0) {
      const ttl = this.#presenceTtl;
      const p = this.#link.cmd.pipeline();
      const mine = keys.nodeRooms(this.nodeId);
      // re-add the rooms (the set is gone if this node was reaped or Redis lost its data)
      p.sadd(mine, ...this.#local.keys()).pexpire(mine, ttl);
      for (const room of this.#local.keys()) {
        const k = keys.room(room);
        p.pexpire(k.members, ttl).pexpire(k.players, ttl).pexpire(k.entities, ttl).pexpire(k.owners, ttl);
      }
      await this.#link.exec("heartbeat refresh", p);
    }
    return { forgotten };
  }

  async nodes(): Promise<NodeInfo[]> {
    const { keys, scripts } = this.#link;
    const cutoff = this.#clock.now() - this.#nodeTtl;
    const list = await this.#link.run("list nodes", () => scripts.gwNodes(keys.beats, keys.info, cutoff));
    const out: NodeInfo[] = [];
    for (const j of list) {
      try {
        out.push(JSON.parse(j) as NodeInfo);
      } catch {
        this.#link.counters.errors++;
      }
    }
    return out;
  }

  async reapDeadNodes(): Promise<DeadNode[]> {
    const link = this.#link;
    const { cmd, keys, scripts } = link;
    const cutoff = this.#clock.now() - this.#nodeTtl;
    const ids = await link.run("find dead nodes", () => cmd.zrangebyscore(keys.beats, "-inf", `(${cutoff}`));
    const dead: DeadNode[] = [];
    for (const id of ids) {
      if (id === this.nodeId) continue;
      // exactly one survivor reaps each node: the one whose SET NX succeeds
      const claimed = await link.run("claim dead node", () => cmd.set(keys.reaper(id), this.nodeId, "PX", Math.max(this.#nodeTtl, 30_000), "NX"));
      if (claimed !== "OK") continue;
      const score = await link.run("check dead node", () => cmd.zscore(keys.beats, id));
      if (score === null || Number(score) >= cutoff) {
        // already reaped by someone whose claim expired, or alive again
        await link.run("release claim", () => cmd.del(keys.reaper(id)));
        continue;
      }
      const report: DeadNode = { node_id: id, rooms: [] };
      const rooms = await link.run("list dead node rooms", () => cmd.smembers(keys.nodeRooms(id)));
      for (const room of rooms) {
        const k = keys.room(room);
        const [members, clients, entities] = await link.run("reap room", () => scripts.gwReapRoom(k.members, k.players, k.entities, k.owners, id));
        if (members.length === 0) continue;
        const parsed: MemberInfo[] = [];
        for (const j of members) {
          try {
            parsed.push(JSON.parse(j) as MemberInfo);
          } catch {
            link.counters.errors++;
          }
        }
        report.rooms.push({ room, members: parsed, clients, entities });
      }
      await link.exec("forget dead node", cmd.multi().zrem(keys.beats, id).hdel(keys.info, id));
      await link.run("forget dead node rooms", () => cmd.del(keys.nodeRooms(id)));
      dead.push(report);
    }
    return dead;
  }

  async putSession(s: SessionRecord, ttlMs: number): Promise<void> {
    const { json, ttl } = encodeSession(s, ttlMs);
    const key = this.#link.keys.session(s.id);
    await this.#link.run("put session", () => this.#link.cmd.set(key, json, "PX", ttl));
  }
  async getSession(id: string): Promise<SessionRecord | undefined> {
    if (!validSessionId(id)) return undefined;
    const json = await this.#link.run("get session", () => this.#link.cmd.get(this.#link.keys.session(id)));
    if (json === null) return undefined;
    const r = decodeSession(json);
    if (!r) this.#link.counters.errors++;
    return r;
  }
  async deleteSession(id: string): Promise<void> {
    if (!validSessionId(id)) return;
    await this.#link.run("delete session", () => this.#link.cmd.del(this.#link.keys.session(id)));
  }

  status(): BackendStatus {
    return this.#link.status.get();
  }
  onStatus(cb: (s: BackendStatus) => void): void {
    this.#link.status.on(cb);
  }
  /**
   * Leaves the node registry at once when this node holds no members any more (a graceful
   * shutdown); otherwise its entry stays so a survivor reaps what it left.
   */
  async close(): Promise<void> {
    if (this.#local.size > 0 || !this.#beaten || !this.#link.writable) return;
    const { cmd, keys } = this.#link;
    try {
      await this.#link.exec("leave registry", cmd.multi().zrem(keys.beats, this.nodeId).hdel(keys.info, this.nodeId));
    } catch {
      // counted; the entry then ages out and is reaped (finding nothing)
    }
  }
}

/** A node's Redis bus, room log and presence store over one pair of connections. */
export class RedisBackend implements ClusterBackend {
  readonly kind = "redis" as const;
  readonly bus: RedisBus;
  readonly log: RedisRoomLog;
  readonly presence: RedisPresence;
  readonly #link: RedisLink;

  /** @internal use {@link createRedisBackend} */
  constructor(link: RedisLink, clock: Clock) {
    this.#link = link;
    this.bus = new RedisBus(link);
    this.log = new RedisRoomLog(link);
    this.presence = new RedisPresence(link, clock);
  }

  /** The key builder (for inspection and tests). */
  get keys(): RedisKeys {
    return this.#link.keys;
  }

  /** Unsubscribes, then closes both connections (pending replies first). */
  async close(): Promise<void> {
    if (this.#link.closed) return;
    await this.bus.close();
    await this.presence.close();
    await this.#link.close();
  }
}

/**
 * Connects to Redis and resolves once both connections are ready.
 * @throws {ClusterUnavailableError} when Redis is not reachable within `connectTimeoutMs`
 *   (the connections are closed again).
 */
export async function createRedisBackend(opts: RedisBackendOptions): Promise<RedisBackend> {
  const link = new RedisLink(opts, opts.log ?? silentLogger);
  const backend = new RedisBackend(link, opts.clock ?? systemClock);
  try {
    await link.ready(opts.connectTimeoutMs ?? 5000);
  } catch (e) {
    await link.close();
    throw e;
  }
  return backend;
}
