import type { Config } from "../config.ts";
import { silentLogger, type Logger } from "../log.ts";
import { SERVER_VERSION } from "../version.ts";
import { frameLength } from "./bytes.ts";
import { systemClock, type Clock } from "./clock.ts";
import { Connection, type Identity } from "./connection.ts";
import { Metrics } from "./metrics.ts";
import { Room } from "./room.ts";
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
}

/** One connection as listed by the stats endpoints. */
export interface ConnectionInfo {
  id: string;
  room_id: string;
  user_id: string | null;
  client_id: string;
  connected_at: string;
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
  readonly rooms = new Map<string, Room>();
  readonly connections = new Set<Connection>();

  constructor(opts: HubOptions) {
    this.config = opts.config;
    this.fanout = opts.fanout;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.metrics = new Metrics(this.clock.now());
  }

  /** Admits an upgraded socket: sends SERVER_HELLO first, then joins the room's topic. */
  open(identity: Identity, transport: Transport): Connection {
    const now = this.clock.now();
    let room = this.rooms.get(identity.roomId);
    if (!room) this.rooms.set(identity.roomId, (room = new Room(identity.roomId, now)));
    const conn = new Connection(this, crypto.randomUUID(), room, identity, transport, now);
    transport.send(JSON.stringify(this.hello(conn)));
    room.add(conn);
    this.connections.add(conn);
    this.fanout.subscribe(transport, room.topic(conn.format));
    this.metrics.connectionsTotal++;
    this.metrics.connectionsActive++;
    this.log.info("connection_open", { room: room.id, connection: conn.id, user: conn.userId, client: conn.clientId });
    return conn;
  }

  /** The JSON SERVER_HELLO every client receives as its first frame. */
  hello(conn: Connection): Record<string, unknown> {
    return {
      type: "SERVER_HELLO",
      room_id: conn.room.id,
      client_id: conn.clientId,
      timestamp: Math.floor(conn.connectedAt / 1000),
      connection_id: conn.id,
      server_version: SERVER_VERSION,
      user_id: conn.userId,
      format: conn.format,
    };
  }

  /** A frame arrived from `conn`. Until typed handling exists, it is relayed as is. */
  inbound(conn: Connection, frame: Frame): void {
    const bytes = frameLength(frame);
    if (bytes > this.config.maxMessageBytes) {
      conn.close(1009, "message too big");
      return;
    }
    const room = conn.room;
    this.metrics.messagesReceived++;
    this.metrics.bytesReceived += bytes;
    room.messagesIn++;
    room.bytesIn += bytes;
    room.lastActivity = this.clock.now();
    this.relay(conn, frame, bytes);
  }

  /** Sends the same frame to every other member of the sender's room, whatever their format. */
  relay(sender: Connection, frame: Frame, bytes = frameLength(frame)): void {
    const room = sender.room;
    const json = room.jsonMembers - (sender.format === "json" ? 1 : 0);
    const pb = room.protobufMembers - (sender.format === "protobuf" ? 1 : 0);
    if (json > 0) this.fanout.publish(room.topicJson, frame, sender.transport);
    if (pb > 0) this.fanout.publish(room.topicProtobuf, frame, sender.transport);
    const n = json + pb;
    room.messagesOut += n;
    room.bytesOut += n * bytes;
    this.metrics.messagesSent += n;
    this.metrics.bytesSent += n * bytes;
  }

  /** Removes a closed connection from its room; empty rooms are forgotten. */
  leave(conn: Connection, code: number, reason: string): void {
    const room = conn.room;
    if (!room.remove(conn)) return;
    this.connections.delete(conn);
    this.fanout.unsubscribe(conn.transport, room.topic(conn.format));
    if (room.members.size === 0) this.rooms.delete(room.id);
    this.metrics.connectionsActive--;
    if (code === 1006 || code === 0 || code === 1011) this.metrics.connectionErrors++;
    this.log.info("connection_close", { room: room.id, connection: conn.id, user: conn.userId, code, reason: reason || undefined });
  }

  /** `/ws/{room}/stats`. */
  roomStats(roomId: string) {
    const room = this.rooms.get(roomId);
    const connections: ConnectionInfo[] = room ? [...room.members].map((c) => this.describe(c)) : [];
    return { room_id: roomId, connection_count: connections.length, connections };
  }

  /** `/ws/stats`. */
  globalStats() {
    return {
      total_connections: this.connections.size,
      rooms: this.rooms.size,
      timestamp: new Date(this.clock.now()).toISOString(),
    };
  }

  describe(c: Connection): ConnectionInfo {
    return {
      id: c.id,
      room_id: c.room.id,
      user_id: c.userId,
      client_id: c.clientId,
      connected_at: new Date(c.connectedAt).toISOString(),
    };
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
