import type { Config } from "../config.ts";
import { AuthPolicy } from "../auth/policy.ts";
import { CloseCode, ErrorCode } from "../errors.ts";
import { silentLogger, type Logger } from "../log.ts";
import { Outbound, parseBinary, parseText } from "../protocol/codec.ts";
import { Router } from "../protocol/router.ts";
import { MessageType, PresenceEventType, type Envelope } from "../protocol/types.ts";
import { frameLength } from "./bytes.ts";
import { systemClock, type Clock } from "./clock.ts";
import { Connection, type Identity } from "./connection.ts";
import { FirstAuth } from "./first-auth.ts";
import { helloFrames } from "./hello.ts";
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
}

/** How a message is broadcast. */
export interface BroadcastOptions {
  /** The sender, who never receives its own message. */
  except?: Connection;
  /** Reliable messages (chat, entities, presence) are never dropped; positions and voice are. */
  reliable: boolean;
  /** Deliver only to this client id's connections (WHISPER). */
  onlyClient?: string;
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
  readonly rooms = new Map<string, Room>();
  readonly connections = new Set<Connection>();
  readonly #idPrefix = crypto.randomUUID().slice(0, 8);
  #idSeq = 0;

  constructor(opts: HubOptions) {
    this.config = opts.config;
    this.fanout = opts.fanout;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.router = opts.router ?? new Router();
    this.auth = opts.auth ?? AuthPolicy.development();
    this.firstAuth = new FirstAuth(this, this.auth);
    this.metrics = new Metrics(this.clock.now());
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
    const placeholder = new Room(identity.roomId, now);
    const conn = new Connection(this, crypto.randomUUID(), placeholder, identity, transport, now);
    this.connections.add(conn);
    this.metrics.connectionsTotal++;
    this.metrics.connectionsActive++;
    if (conn.pending) {
      conn.authDeadline = now + this.config.authTimeoutMs;
      this.log.info("connection_pending_auth", { room: identity.roomId, connection: conn.id });
    } else this.join(conn);
    return conn;
  }

  /** Joins an admitted connection: SERVER_HELLO first, then the room's topic, then PRESENCE_JOIN to the others. */
  join(conn: Connection): void {
    const now = this.clock.now();
    let room = this.rooms.get(conn.room.id);
    if (!room) this.rooms.set(conn.room.id, (room = new Room(conn.room.id, now)));
    conn.room = room;
    room.world.join({ client_id: conn.clientId, user_id: conn.userId ?? undefined, display_name: conn.displayName, connectionId: conn.id }, now);
    for (const frame of helloFrames(this, conn)) conn.transport.send(frame);
    room.add(conn);
    this.fanout.subscribe(conn.transport, room.topic(conn.format));
    this.broadcast(room, {
      type: MessageType.PRESENCE_JOIN,
      payload: "presence_event",
      presence_event: { client_id: conn.clientId, event_type: PresenceEventType.JOIN, data: { display_name: conn.displayName ?? "" } },
    }, { except: conn, reliable: true });
    this.log.info("connection_open", { room: room.id, connection: conn.id, user: conn.userId, client: conn.clientId, format: conn.format });
  }

  /** A frame arrived from `conn`: typed messages are routed, other text relayed as is. */
  inbound(conn: Connection, frame: Frame): void {
    const bytes = frameLength(frame);
    if (bytes > this.config.maxMessageBytes) {
      return this.closeWith(conn, CloseCode.TOO_BIG, ErrorCode.MESSAGE_TOO_BIG, `Frame of ${bytes} bytes exceeds MAX_MESSAGE_BYTES (${this.config.maxMessageBytes})`);
    }
    const room = conn.room;
    const now = this.clock.now();
    this.metrics.messagesReceived++;
    this.metrics.bytesReceived += bytes;
    room.messagesIn++;
    room.bytesIn += bytes;
    room.lastActivity = now;
    let msg: Envelope;
    if (typeof frame === "string") {
      const parsed = parseText(frame);
      if (parsed.kind === "raw") return this.relayRaw(conn, frame, bytes);
      if (parsed.kind === "bad") return this.sendError(conn, ErrorCode.BAD_MESSAGE, parsed.error.message, parsed.ref);
      msg = parsed.msg;
    } else {
      const parsed = parseBinary(frame);
      if ("error" in parsed) return this.sendError(conn, ErrorCode.BAD_MESSAGE, parsed.error.message);
      msg = parsed.msg;
    }
    this.route(conn, msg, typeof frame === "string" ? "json" : "protobuf");
  }

  /** Hands a decoded message to its handler. */
  route(conn: Connection, msg: Envelope, inFormat: Format): void {
    this.router.dispatch({ hub: this, conn, room: conn.room, now: this.clock.now(), inFormat }, msg);
  }

  /** Stamps `msg` (id when empty, server time) and sends it to the room, encoded once per format. */
  broadcast(room: Room, msg: Envelope, opts: BroadcastOptions): void {
    if (!msg.message_id) msg.message_id = this.nextMessageId();
    msg.timestamp = this.clock.now();
    const out = new Outbound(msg);
    const sender = opts.except;
    if (opts.onlyClient !== undefined) {
      for (const m of room.members) if (m !== sender && m.clientId === opts.onlyClient) this.#count(room, m.send(out.frame(m.format)));
      return;
    }
    const live = sender && !sender.isClosed && sender.room === room ? sender : undefined;
    const json = room.jsonMembers - (live?.format === "json" ? 1 : 0);
    const pb = room.protobufMembers - (live?.format === "protobuf" ? 1 : 0);
    if (json > 0) this.#publish(room, room.topicJson, out.json(), json, live);
    if (pb > 0) this.#publish(room, room.topicProtobuf, out.protobuf(), pb, live);
  }

  /** Relays text that is not a typed message to every other member, whatever their format. */
  relayRaw(sender: Connection, frame: Frame, bytes = frameLength(frame)): void {
    const room = sender.room;
    const json = room.jsonMembers - (sender.format === "json" ? 1 : 0);
    const pb = room.protobufMembers - (sender.format === "protobuf" ? 1 : 0);
    if (json > 0) this.#publish(room, room.topicJson, frame, json, sender, bytes);
    if (pb > 0) this.#publish(room, room.topicProtobuf, frame, pb, sender, bytes);
  }

  #publish(room: Room, topic: string, frame: Frame, recipients: number, sender?: Connection, bytes = frameLength(frame)): void {
    this.fanout.publish(topic, frame, sender?.transport);
    room.messagesOut += recipients;
    room.bytesOut += recipients * bytes;
    this.metrics.messagesSent += recipients;
    this.metrics.bytesSent += recipients * bytes;
  }

  #count(room: Room, bytes: number): void {
    if (bytes <= 0) return;
    room.messagesOut++;
    room.bytesOut += bytes;
    this.metrics.messagesSent++;
    this.metrics.bytesSent += bytes;
  }

  /** Sends one message to one connection, in `format` (default: the connection's). */
  sendMessage(conn: Connection, msg: Envelope, format: Format = conn.format): void {
    if (!msg.message_id) msg.message_id = this.nextMessageId();
    msg.timestamp = this.clock.now();
    this.#count(conn.room, conn.send(new Outbound(msg).frame(format)));
  }

  /** Tells `conn` that one of its messages was refused; the connection stays up. */
  sendError(conn: Connection, code: ErrorCode, message: string, ref?: string, extra: { retry_after_ms?: number; close_code?: number } = {}): void {
    this.metrics.countError(code);
    this.sendMessage(conn, { type: MessageType.ERROR, payload: "error", error: { code, message, ref_message_id: ref ?? "", ...extra } });
  }

  /**
   * Closes `conn` for a reason of ours: first an ERROR frame carrying the same code and reason
   * (so clients that cannot read close frames still learn why), then the close itself.
   */
  closeWith(conn: Connection, closeCode: number, errorCode: ErrorCode, message: string): void {
    if (conn.isClosed) return;
    this.sendError(conn, errorCode, message, undefined, { close_code: closeCode });
    conn.close(closeCode, message.slice(0, 120));
  }

  /** Removes a closed connection: PRESENCE_LEAVE and despawns of its entities go to the room. */
  leave(conn: Connection, code: number, reason: string): void {
    if (!this.connections.delete(conn)) return;
    this.metrics.connectionsActive--;
    if (code === 1006 || code === 0 || code === 1011) this.metrics.connectionErrors++;
    const room = conn.room;
    if (!room.remove(conn)) {
      this.log.info("connection_close", { room: room.id, connection: conn.id, code, reason: reason || undefined, pending: true });
      return;
    }
    this.fanout.unsubscribe(conn.transport, room.topic(conn.format));
    const now = this.clock.now();
    if (room.world.leave(conn.clientId, conn.id, now)) {
      for (const id of room.world.ownedBy(conn.clientId)) {
        room.world.entities.delete(id);
        this.broadcast(room, { type: MessageType.ENTITY_DESPAWN, payload: "entity_despawn", entity_despawn: { entity_id: id } }, { reliable: true });
      }
      this.broadcast(room, {
        type: MessageType.PRESENCE_LEAVE,
        payload: "presence_event",
        presence_event: { client_id: conn.clientId, event_type: PresenceEventType.LEAVE },
      }, { reliable: true });
    }
    if (room.members.size === 0) this.rooms.delete(room.id);
    this.log.info("connection_close", { room: room.id, connection: conn.id, user: conn.userId, code, reason: reason || undefined });
  }

  /** Closes every connection (shutdown). Resolves when all have closed or `timeoutMs` passed. */
  async closeAll(code: number, reason: string, timeoutMs: number): Promise<boolean> {
    for (const c of [...this.connections]) c.close(code, reason);
    const deadline = this.clock.now() + timeoutMs;
    while (this.connections.size > 0 && this.clock.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.connections.size === 0;
  }
}
