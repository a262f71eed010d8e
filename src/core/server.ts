/**
 * The composition root of the core: builds every part with only what it uses and wires them
 * together; the adapters' sockets come in through {@link Server.open}. The local-or-shared
 * choice is made here, once ({@link Replication}). Nothing else constructs parts or reaches
 * through another part.
 * @module
 */
import { AuthPolicy } from "../auth/policy.ts";
import { MemoryBroker } from "../cluster/memory.ts";
import type { ClusterBackend } from "../cluster/types.ts";
import { historyTtlMs, type Config } from "../config.ts";
import { Acks } from "../delivery/acks.ts";
import { Delivery } from "../delivery/deliver.ts";
import { InOrder } from "../delivery/in-order.ts";
import { Sequencer } from "../delivery/sequencer.ts";
import { CloseCode, ErrorCode } from "../errors.ts";
import { ConnectLimiter, GlobalLimiter, MessageLimiter } from "../limits/index.ts";
import { systemClock, type Clock } from "../lib/clock.ts";
import { MessageIds } from "../lib/ids.ts";
import type { Fanout, Frame, Transport } from "../lib/transport.ts";
import { silentLogger, type Logger } from "../log.ts";
import { Metrics } from "../observability/metrics.ts";
import { Broadcaster } from "./broadcast.ts";
import { Capacity } from "./capacity.ts";
import { Connection, type ConnectionEvents, type Identity } from "./connection.ts";
import { FirstAuth } from "./first-auth.ts";
import { helloFrames } from "./hello.ts";
import { Inbound } from "./inbound.ts";
import { Joiner } from "./join.ts";
import { applyRemote, Remote } from "./remote.ts";
import { LocalReplication, type Replication } from "./replication.ts";
import { SharedReplication } from "./replication-shared.ts";
import { Room } from "./room.ts";
import { Rooms } from "./rooms.ts";
import { Router } from "./router.ts";
import { reachable } from "./reachable.ts";
import { Sessions } from "./sessions.ts";
import type { Player } from "./world.ts";
import { Moderation } from "./moderation.ts";
import { Interest } from "./interest/index.ts";
import { collectAfterBursts, type BurstCollector } from "../lib/burst.ts";
import { MessageType } from "../protocol/types.ts";
import { becomeXr } from "./xr-format.ts";
import type { MetricsSource } from "./metrics-view.ts";
import type { StatsSource } from "./stats.ts";

/** What a server needs from its host. */
export interface ServerOptions {
  config: Config;
  /** The adapter's fan-out (native topics on Bun, a loop elsewhere). */
  fanout: Fanout;
  /** @default systemClock */
  clock?: Clock;
  /** @default silentLogger */
  log?: Logger;
  /** @default new Router() with every default handler */
  router?: Router;
  /** @default development mode (no tokens) */
  auth?: AuthPolicy;
  /** A shared cluster backend; without one the server is alone (an in-memory log of its own). */
  cluster?: ClusterBackend;
  /** Runtime name, for metrics and heartbeats. */
  runtime?: string;
  /** Gives a connect burst's garbage back (lib/burst.ts); false where it cannot. @default none */
  collectGarbage?: () => boolean;
}

/** The core of one instance. */
export class Server implements ConnectionEvents {
  readonly config: Config;
  readonly clock: Clock;
  readonly log: Logger;
  readonly auth: AuthPolicy;
  readonly runtime: string;
  readonly metrics: Metrics;
  readonly backend: ClusterBackend;
  readonly replication: Replication;
  readonly connections = new Set<Connection>();
  readonly rooms: Rooms;
  readonly capacity: Capacity;
  readonly limits: { messages: MessageLimiter; global: GlobalLimiter; connect: ConnectLimiter };
  readonly delivery: Delivery;
  readonly sequencer: Sequencer;
  readonly acks: Acks;
  readonly sessions: Sessions;
  readonly out: Broadcaster;
  readonly inbound: Inbound;
  readonly joiner: Joiner;
  readonly remote: Remote;
  readonly moderation: Moderation;
  /** Batch mode and interest management of big rooms. */
  readonly interest: Interest;
  /** Set by a drain: new upgrades get 503 and /ready says so. */
  draining = false;
  readonly #ids = new MessageIds();
  /** The collection after a connect burst (lib/burst.ts); none without a collector or with COLLECT_AFTER_BURST off. */
  readonly #bursts?: BurstCollector;

  constructor(opts: ServerOptions) {
    const cfg = (this.config = opts.config);
    const clock = (this.clock = opts.clock ?? systemClock);
    const log = (this.log = opts.log ?? silentLogger);
    this.auth = opts.auth ?? AuthPolicy.development();
    this.runtime = opts.runtime ?? "";
    const metrics = (this.metrics = new Metrics(clock.now()));
    if (opts.collectGarbage && cfg.collectAfterBurst) this.#bursts = collectAfterBursts(clock, opts.collectGarbage, () => metrics.burstCollections++);
    const backend = (this.backend = opts.cluster ?? new MemoryBroker({ clock, historySize: cfg.historySize, historyTtlMs: historyTtlMs(cfg) }).node(cfg.nodeId || crypto.randomUUID().slice(0, 8)));
    const ids = this.#ids;
    this.limits = {
      messages: new MessageLimiter({ limit: cfg.rateLimitMessages, windowMs: cfg.rateLimitWindowMs, strikes: cfg.rateLimitStrikes }, clock),
      global: new GlobalLimiter({ limit: cfg.globalRateLimitMessages, windowMs: cfg.rateLimitWindowMs }, clock),
      connect: new ConnectLimiter({ limit: cfg.connectRateLimit }, clock),
    };
    const limits = { entities: cfg.maxEntitiesPerRoom, entityBytes: cfg.maxEntityBytes, components: cfg.maxEntityComponents, roomBytes: cfg.maxRoomStateBytes };
    // Decided once: with a cluster backend given, rooms are shared; alone, nothing is.
    const replication = (this.replication = opts.cluster
      ? new SharedReplication({
        backend, clock, logger: log, runtime: this.runtime, heartbeatMs: cfg.nodeHeartbeatMs, nodeTtlMs: cfg.nodeTtlMs, resumeWindowMs: cfg.resumeWindowMs,
        rooms: () => this.rooms.values(),
        connections: () => this.connections.size,
        departed: (room, clientId, token) => this.sessions.depart(room, clientId, token),
        head: (room, h) => inOrder.catchUp(room, h.epoch, h.seq),
      })
      : new LocalReplication(backend.nodeId, backend.log));
    const rooms = (this.rooms = new Rooms(replication, clock, limits));
    this.capacity = new Capacity(clock, cfg.maxConnections, cfg.maxRoomConnections, () => this.connections.size, (room) => rooms.get(room)?.members.size ?? 0);
    const delivery = (this.delivery = new Delivery({
      fanout: opts.fanout, metrics, softBytes: cfg.slowConsumerSoftBytes, hardBytes: cfg.slowConsumerHardBytes,
      tooSlow: (r) => this.out.closeWith(r as Connection, CloseCode.SLOW_CONSUMER, ErrorCode.DISCONNECT, `Send queue passed SLOW_CONSUMER_HARD_BYTES (${cfg.slowConsumerHardBytes})`),
    }));
    const inOrder = new InOrder(backend.log, clock, (ch, e) => this.remote.entry(ch as Room, e));
    const sequencer = (this.sequencer = new Sequencer({ log: backend.log, clock, delivery, inOrder, metrics, logger: log, outboxTimeoutMs: cfg.outboxTimeoutMs, outboxMax: cfg.outboxMaxMessages, ready: () => this.replication.synced(),
      apply: (ch, msg) => applyRemote((ch as Room).world, msg, clock.now()),
    }));
    this.acks = new Acks({
      log: backend.log, delivery, metrics, ackTimeoutMs: cfg.ackTimeoutMs, maxRetries: cfg.maxRetries,
      unresponsive: (r, why) => this.out.closeWith(r as Connection, CloseCode.UNRESPONSIVE, ErrorCode.DISCONNECT, why),
    });
    const interest = (this.interest = new Interest({
      clock,
      config: { tickHz: cfg.roomTickHz, nearest: cfg.interestNearest, radius: cfg.interestRadius, farHz: cfg.interestFarHz, minRoomSize: cfg.interestMinRoomSize },
      send: (c, frame, batch) => delivery.sendLatest(c, frame, batch ? MessageType.POSE_BATCH : MessageType.POSITION_UPDATE),
    }));
    const out = (this.out = new Broadcaster({ sequencer, delivery, replication, ids, clock, metrics, poses: interest, lostHold: (c) => this.sessions.lost(c) }));
    this.sessions = new Sessions({
      claims: backend.claims, out, clock, metrics, logger: log, nodeId: backend.nodeId, resumeWindowMs: cfg.resumeWindowMs, closedBy: reachable(backend, clock, cfg.resumeWindowMs),
      room: (id) => rooms.channel(id),
      presence: replication.presence("leave") as "leave" | undefined, live: (connId) => [...this.connections].some((c) => c.id === connId),
      hydrate: async (room) => {
        for (const p of await replication.storedPlayers(room.id)) {
          if (p.client_id) room.world.join({ ...(p as Player), token: "" }, clock.now());
        }
      },
      replace: (roomId, holder, code, why) => {
        if (holder.node === backend.nodeId) this.replace(holder.conn!, code, why);
        else replication.publish(roomId, Remote.notice({ replace: { node: holder.node, conn: holder.conn!, code, reason: why } }));
      },
    });
    const moderation = (this.moderation = new Moderation({
      control: backend.control, rooms, out, clock, logger: log,
      storedPlayers: async (id) => (await replication.storedPlayers(id)).map((p) => ({ ...p, client_id: p.client_id ?? "" })),
    }));
    this.remote = new Remote({
      room: (id) => rooms.get(id), delivery, sequencer, inOrder, clock, logger: log, nodeId: backend.nodeId,
      replace: (c, code, why) => this.replace(c, code, why),
      moderated: (room, ev) => moderation.applied(room, ev),
      poses: interest,
    });
    backend.bus.onFrame(this.remote.frame);
    const xr = (c: Connection) => becomeXr(c, { delivery, logger: log, messageId: () => ids.next(), now: () => clock.now() });
    const services = {
      replication, acks: this.acks, sessions: this.sessions, auth: this.auth, logger: log, moderation,
      follow: (c: Connection, ids: readonly string[], on: boolean) => interest.follow(c, ids, on),
      hello: (conn: Connection) => {
        for (const f of helloFrames(conn, ids.next(), clock.now())) delivery.sendTo(conn, f, undefined, conn.format, false);
      },
    };
    const firstAuth = new FirstAuth({ policy: this.auth, out, join: (c) => this.joiner.join(c), route: (c, m, f, ref) => this.inbound.route(c, m, f, ref), becomeXr: xr });
    this.inbound = new Inbound({ config: cfg, clock, metrics, limits: this.limits, router: opts.router ?? new Router(), out, services, firstAuth, becomeXr: xr });
    this.joiner = new Joiner({
      rooms, sessions: this.sessions, replication, delivery, acks: this.acks, log: backend.log, out, ids, clock, logger: log, metrics,
      historySize: cfg.historySize, inOrder, handle: (c, item) => this.inbound.handleEarly(c, item),
    });
  }

  /** This instance's id in the cluster. */
  get nodeId(): string {
    return this.backend.nodeId;
  }

  // ---- What the HTTP app reads (http/app.ts `AppServer`): admission, stats, metrics, health.

  get connectLimiter(): ConnectLimiter {
    return this.limits.connect;
  }

  connectRefused = (): void => void this.metrics.rateLimited.connect++;

  /** Whether this instance knows another user (or an anonymous client) holds `clientId` in `room`. */
  heldByOther(room: string, clientId: string, userId: string | null): boolean {
    const p = this.rooms.get(room)?.world.players.get(clientId);
    return p !== undefined && (p.user_id === undefined || p.user_id !== userId);
  }

  get stats(): StatsSource {
    return { rooms: this.rooms, replication: this.replication, clock: this.clock, connections: () => this.connections.size, moderation: this.moderation };
  }

  moderationRefusal = (room: string, clientId: string | undefined, resuming: boolean) => this.moderation.admission(room, clientId, resuming);

  get metricsSource(): MetricsSource {
    return {
      metrics: this.metrics, clock: this.clock, runtime: this.runtime, maxRooms: this.config.metricsMaxRooms, rooms: () => this.rooms.values(),
      cluster: () => ({ kind: this.backend.kind, node_id: this.nodeId, healthy: this.replication.notReady() === undefined, bus: this.backend.bus.counters }),
      unacked: () => this.acks.unacked(), outbox: () => this.sequencer.outboxSize,
      batches: () => ({ rooms: this.interest.batchRooms, phaseTime: this.interest.phaseTime, skipped: this.interest.skipped }),
    };
  }

  health(): { uptime_s: number; connections: number } {
    return { uptime_s: Math.round((this.clock.now() - this.metrics.startedAt) / 1000), connections: this.connections.size };
  }

  clusterNotReady = (): string | undefined => this.replication.notReady();

  get clusterKind(): string {
    return this.backend.kind;
  }

  /**
   * Takes an upgraded socket. An authenticated (or anonymous) one joins its room at once; one
   * waiting for first-message auth joins when its token has been checked.
   */
  open(identity: Identity, transport: Transport): Connection {
    const now = this.clock.now();
    identity.slot?.opened();
    const conn = new Connection(this, crypto.randomUUID(), new Room(identity.roomId, now, this.rooms.limits), identity, transport, now);
    this.#bursts?.open();
    this.connections.add(conn);
    this.metrics.connectionsTotal++;
    this.metrics.connectionsActive++;
    if (conn.pending) {
      conn.authDeadline = now + this.config.authTimeoutMs;
      this.log.info("connection_pending_auth", { room: identity.roomId, connection: conn.id });
    } else this.joiner.join(conn);
    return conn;
  }

  message(conn: Connection, data: Frame): void {
    this.inbound.message(conn, data);
  }

  drain(conn: Connection): void {
    this.delivery.flush(conn);
  }

  pong(conn: Connection): void {
    const now = this.clock.now();
    if (conn.pingSentAt) this.metrics.recordRoundTrip(now - conn.pingSentAt);
    conn.pingSentAt = 0;
    conn.lastPongAt = now;
  }

  /** A connection closed: it leaves its room, which sees it go unless its session waits for a resume. */
  closed(conn: Connection, code: number, reason: string): void {
    if (!this.connections.delete(conn)) return;
    conn.releaseSlot();
    this.metrics.connectionsActive--;
    this.metrics.closed(code);
    if (code === 1006 || code === 0 || code === 1011) this.metrics.connectionErrors++;
    const room = conn.room as Room;
    const fields = { room: room.id, connection: conn.id, user: conn.userId, code, reason: reason || undefined };
    if (!conn.joined) this.joiner.closed(conn, code);
    if (!conn.joined || !room.remove(conn)) return this.log.info("connection_close", { ...fields, pending: true });
    this.delivery.forget(conn);
    this.acks.untrack(conn);
    this.replication.left(conn);
    this.sessions.ended(conn, code);
    this.rooms.release(room);
    if (room.members.size === 0) this.interest.forget(room);
    this.log.info("connection_close", { ...fields, resumable: room.ghosts.has(conn.clientId) || undefined });
  }

  /** Closes this instance's connection `connId` (its client id was taken over elsewhere). */
  replace(connId: string, code: number, why: string): void {
    for (const c of this.connections) if (c.id === connId) return this.out.closeWith(c, code, ErrorCode.DISCONNECT, why);
  }

  /** Starts the cluster side (heartbeats, reaping). */
  start(): void {
    this.replication.start();
  }

  stop(): void {
    this.interest.stop();
    this.replication.stop();
    this.#bursts?.stop();
  }
}
