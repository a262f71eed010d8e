import { historyTtlMs, type Config } from "../config.ts";
import { AuthPolicy } from "../auth/policy.ts";
import type { ClusterBackend } from "../cluster/types.ts";
import { MemoryBroker } from "../cluster/memory.ts";
import { Acks, type JoinResult } from "../delivery/acks.ts";
import { Delivery } from "../delivery/engine.ts";
import { decodeFrame, encodeFrame, FrameKind, outboundOf } from "../delivery/frames.ts";
import { CloseCode, type ErrorCode } from "../errors.ts";
import { ConnectLimiter, GlobalLimiter, MessageLimiter } from "../limits/index.ts";
import { silentLogger, type Logger } from "../log.ts";
import { Outbound } from "../protocol/codec.ts";
import { stampedBytes } from "../protocol/patch.ts";
import { Router } from "../protocol/router.ts";
import { MessageType, type Envelope } from "../protocol/types.ts";
import { systemClock, type Clock } from "./clock.ts";
import { ClusterLink } from "./cluster-link.ts";
import { departClient } from "./departure.ts";
import { then, type Maybe } from "./maybe.ts";
import { Connection, type Identity } from "./connection.ts";
import { FirstAuth } from "./first-auth.ts";
import { helloFrames } from "./hello.ts";
import { joinEvent, joinTime } from "./host.ts";
import { inbound } from "./inbound.ts";
import { Metrics } from "./metrics.ts";
import { Room, type Format } from "./room.ts";
import type { Fanout, Frame, Transport } from "./transport.ts";

/** What the hub needs from its host. */
export interface HubOptions {
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
  /** @default an in-memory backend of one node */
  cluster?: ClusterBackend;
  /** This instance's id in the cluster. @default a random one */
  nodeId?: string;
  /** Runtime name, for metrics. */
  runtime?: string;
}

/** How a message is broadcast. */
export interface BroadcastOptions {
  /** The sender, who never receives its own message. */
  except?: Connection;
  /** Reliable messages (chat, entities, presence, errors) are sequenced and kept for resends and resume. */
  reliable: boolean;
  /** Deliver only to this client id's connections (WHISPER, errors). */
  onlyClient?: string;
  /** Latest-wins key: a slow recipient keeps only the newest message per key. */
  key?: string;
  /** The handler filled in the position update's empty `entity_id` (see protocol/patch.ts). */
  entityStamped?: boolean;
}

/**
 * The runtime-neutral heart of the server: rooms, connections, and who receives what.
 * Adapters call {@link open} after an upgrade and the returned handle's methods on events.
 */
export class Hub {
  readonly config: Config;
  readonly fanout: Fanout;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly router: Router;
  readonly auth: AuthPolicy;
  readonly firstAuth: FirstAuth;
  readonly cluster: ClusterBackend;
  readonly link: ClusterLink;
  readonly delivery: Delivery;
  readonly acks: Acks;
  readonly limits: { messages: MessageLimiter; global: GlobalLimiter; connect: ConnectLimiter };
  readonly runtime: string;
  readonly rooms = new Map<string, Room>();
  readonly connections = new Set<Connection>();
  /** Set by a drain: new upgrades get 503 and /ready says so. */
  draining = false;
  readonly #idPrefix = crypto.randomUUID().slice(0, 8);
  #idSeq = 0;

  constructor(opts: HubOptions) {
    const cfg = (this.config = opts.config);
    this.fanout = opts.fanout;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.router = opts.router ?? new Router();
    this.auth = opts.auth ?? AuthPolicy.development();
    this.runtime = opts.runtime ?? "";
    this.firstAuth = new FirstAuth(this, this.auth);
    this.metrics = new Metrics(this.clock.now());
    this.cluster = opts.cluster ?? new MemoryBroker({ clock: this.clock, historySize: cfg.historySize, historyTtlMs: historyTtlMs(cfg) }).node("local");
    this.delivery = new Delivery(this, this.cluster.log);
    this.link = new ClusterLink(this, this.cluster, {
      nodeId: opts.nodeId ?? crypto.randomUUID().slice(0, 8),
      heartbeatMs: cfg.nodeHeartbeatMs,
      shareWorld: this.cluster.kind === "redis" || opts.cluster !== undefined,
    });
    this.acks = new Acks(this, this.delivery);
    const window = cfg.rateLimitWindowMs;
    this.limits = {
      messages: new MessageLimiter({ limit: cfg.rateLimitMessages, windowMs: window, strikes: cfg.rateLimitStrikes }, this.clock),
      global: new GlobalLimiter({ limit: cfg.globalRateLimitMessages, windowMs: window }, this.clock),
      connect: new ConnectLimiter({ limit: cfg.connectRateLimit }, this.clock),
    };
  }

  /** A server-unique message id (cheaper than a UUID per message). */
  nextMessageId(): string {
    return `${this.#idPrefix}-${(++this.#idSeq).toString(36)}`;
  }

  /**
   * Takes an upgraded socket. An authenticated (or anonymous) one joins its room at once; one
   * waiting for first-message auth joins when {@link FirstAuth} has checked its token.
   */
  open(identity: Identity, transport: Transport): Connection {
    const now = this.clock.now();
    const conn = new Connection(this, crypto.randomUUID(), new Room(identity.roomId, now), identity, transport, now);
    this.connections.add(conn);
    this.metrics.connectionsTotal++;
    this.metrics.connectionsActive++;
    if (conn.pending) {
      conn.authDeadline = now + this.config.authTimeoutMs;
      this.log.info("connection_pending_auth", { room: identity.roomId, connection: conn.id });
    } else this.join(conn);
    return conn;
  }

  /**
   * Joins an admitted connection: SERVER_HELLO first, a resumed session's missed messages,
   * then the room's topic, then PRESENCE_JOIN to the others (not when a session continues).
   * Synchronous with the memory backend; with Redis it waits for the room's shared state and
   * the session (frames the client sends meanwhile wait too, in order).
   */
  join(conn: Connection): void {
    let room = this.rooms.get(conn.room.id);
    if (!room) {
      this.rooms.set(conn.room.id, (room = new Room(conn.room.id, this.clock.now())));
      const opening = this.link.open(room);
      if (opening) room.opening = opening.finally(() => (room!.opening = undefined));
    }
    conn.room = room;
    room.joining++;
    const ready = then(room.opening as Maybe<void>, () => this.acks.join(conn));
    if (ready instanceof Promise) {
      conn.early = [];
      ready.then((j) => this.#joined(conn, j), (e) => {
        this.log.error("join_failed", { room: conn.room.id, connection: conn.id, message: (e as Error).message });
        conn.room.joining--;
        this.closeWith(conn, CloseCode.INTERNAL, "DISCONNECT", "Could not join the room");
      });
    } else this.#joined(conn, ready);
  }

  #joined(conn: Connection, joined: JoinResult): void {
    const room = conn.room;
    room.joining--;
    if (conn.isClosed) return void (room.empty && this.closeRoom(room));
    const now = this.clock.now();
    const known = room.world.players.get(conn.clientId);
    const quiet = joined.quiet && known !== undefined;
    if (quiet) known.connectionId = conn.id;
    else room.world.join({ client_id: conn.clientId, user_id: conn.userId ?? undefined, display_name: conn.displayName, connectionId: conn.id, joined_at: joinTime(room.world, now) }, now);
    for (const frame of helloFrames(this, conn, joined.resumed)) conn.transport.send(frame);
    for (const e of joined.replay) this.delivery.sendTo(conn, outboundOf(decodeFrame(e.frame).payload));
    room.members.add(conn);
    if (conn.reliable) room.reliable++;
    room.subscribe(conn, this.fanout);
    this.link.joined(conn);
    if (!quiet) {
      // compat (issue 15): the join carries joined_at and the room's host (core/host.ts).
      this.broadcast(room, { type: MessageType.PRESENCE_JOIN, payload: "presence_event", presence_event: joinEvent(room.world, conn.clientId) }, { except: conn, reliable: true });
    }
    this.log.info("connection_open", { room: room.id, connection: conn.id, user: conn.userId, client: conn.clientId, format: conn.format, resumed: joined.resumed || undefined });
    const early = conn.early;
    conn.early = undefined;
    if (early) for (const f of early) if (!conn.isClosed) this.inbound(conn, f);
  }

  /** Forgets a room nothing keeps alive any more, and stops receiving it from the cluster. */
  closeRoom(room: Room): void {
    if (this.rooms.get(room.id) !== room) return;
    this.rooms.delete(room.id);
    this.link.close(room);
  }

  /** A frame arrived from `conn`. */
  inbound(conn: Connection, frame: Frame): void {
    inbound(this, conn, frame);
  }

  /** Hands a decoded message to its handler. */
  route(conn: Connection, msg: Envelope, inFormat: Format, now = this.clock.now()): void {
    this.router.dispatch({ hub: this, conn, room: conn.room, now, inFormat }, msg);
  }

  /** Stamps `msg` (id when empty, server time) and delivers it to the room, encoded once per format. */
  broadcast(room: Room, msg: Envelope, opts: BroadcastOptions): void {
    const idStamped = !msg.message_id;
    if (idStamped) msg.message_id = this.nextMessageId();
    msg.timestamp = this.clock.now();
    const meta = { reliable: opts.reliable, kind: FrameKind.Typed, sender: opts.except?.clientId ?? "", only: opts.onlyClient ?? "" };
    if (opts.reliable) return this.delivery.reliable(room, msg, meta, opts.except);
    // A binary position update is stamped by appending to the client's bytes, not re-encoded.
    const out = msg.raw && msg.payload === "position_update"
      ? Outbound.stamped(msg, stampedBytes(msg.raw, msg, idStamped, opts.entityStamped === true))
      : new Outbound(msg);
    if (this.link.opts.shareWorld) this.link.publish(room.id, encodeFrame(meta, out.protobuf()));
    this.delivery.ordered(room, () => this.delivery.deliver(room, out, meta, opts.except, opts.key));
  }

  /** Text that is not a typed message: relayed as is, here and on the other instances. */
  relayRaw(conn: Connection, text: string): void {
    const meta = { reliable: false, kind: FrameKind.RawText, sender: conn.clientId, only: "" };
    if (this.link.opts.shareWorld) this.link.publish(conn.room.id, encodeFrame(meta, new TextEncoder().encode(text)));
    this.delivery.ordered(conn.room, () => this.delivery.deliver(conn.room, text, meta, conn));
  }

  /** Sends one message to one connection, in `format` (default: the connection's), unsequenced. */
  sendMessage(conn: Connection, msg: Envelope, format: Format = conn.format): void {
    if (!msg.message_id) msg.message_id = this.nextMessageId();
    msg.timestamp = this.clock.now();
    this.delivery.sendTo(conn, new Outbound(msg), undefined, format);
  }

  /** Tells `conn` that one of its messages was refused; the connection stays up. Reliable for ack clients. */
  sendError(conn: Connection, code: ErrorCode, message: string, ref?: string, extra: { retry_after_ms?: number; close_code?: number } = {}): void {
    this.metrics.countError(code);
    const msg: Envelope = { type: MessageType.ERROR, payload: "error", error: { code, message, ref_message_id: ref ?? "", ...extra } };
    if (conn.reliable && !conn.pending) this.broadcast(conn.room, msg, { reliable: true, onlyClient: conn.clientId });
    else this.sendMessage(conn, msg);
  }

  /**
   * Closes `conn` for a reason of ours: first an ERROR frame carrying the same code and reason
   * (so clients that cannot read close frames still learn why), then the close itself. The
   * frame goes straight to the socket: the connection is ending, nothing is queued or resent.
   */
  closeWith(conn: Connection, closeCode: number, errorCode: ErrorCode, message: string): void {
    if (conn.isClosed) return;
    this.metrics.countError(errorCode);
    const msg: Envelope = { type: MessageType.ERROR, message_id: this.nextMessageId(), timestamp: this.clock.now(), payload: "error", error: { code: errorCode, message, close_code: closeCode } };
    conn.transport.send(new Outbound(msg).frame(conn.format));
    conn.close(closeCode, message.slice(0, 120));
  }

  /** Removes a closed connection; the room sees it leave unless its session waits for a resume. */
  leave(conn: Connection, code: number, reason: string): void {
    if (!this.connections.delete(conn)) return;
    const m = this.metrics;
    m.connectionsActive--;
    m.closed(code);
    if (code === 1006 || code === 0 || code === 1011) m.connectionErrors++;
    const room = conn.room;
    const fields = { room: room.id, connection: conn.id, user: conn.userId, code, reason: reason || undefined };
    if (!room.members.delete(conn)) return this.log.info("connection_close", { ...fields, pending: true });
    this.delivery.forget(conn);
    if (conn.reliable) room.reliable--;
    this.link.left(conn);
    const departs = !conn.reliable || this.acks.closed(conn, code);
    if (departs) departClient(this, room, conn.clientId, conn.id);
    if (room.empty) this.closeRoom(room);
    this.log.info("connection_close", { ...fields, resumable: !departs || undefined });
  }

}
