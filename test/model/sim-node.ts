/**
 * THE ADAPTER: the one file through which the model test (test/model/) and the in-process
 * guarantee tests (test/guarantees/) touch the hub's API. Issue 14 reshapes that API — port
 * this file (and, for the cluster interfaces, sim-backend.ts) and nothing else. Everything here is what an adapter and a deployment do to a hub:
 * build it on a cluster backend, open a connection, hand it a frame, close it, let its timers
 * run, kill it, ask it for stats. The tests never reach into the hub past this file.
 *
 * A {@link SimNode} is one instance: a Hub on a {@link MemoryBroker} shared with the other
 * instances (the broker stands in for Redis), its timers on the shared {@link ManualClock}
 * (so killing the instance cancels exactly its timers), and {@link SimSocket}s — in-memory
 * sockets whose server→client frames stay "on the wire" until the client reads them, so a TCP
 * drop loses what was in flight and a client that does not read looks slow to the server.
 */
import { AuthPolicy } from "../../src/auth/policy.ts";
import type { MemoryBroker } from "../../src/cluster/memory.ts";
import { defaultConfig, type Config } from "../../src/config.ts";
import type { Connection } from "../../src/core/connection.ts";
import { Keepalive } from "../../src/core/keepalive.ts";
import { Server } from "../../src/core/server.ts";
import { roomStats } from "../../src/core/stats.ts";
import type { ManualClock } from "../../src/lib/clock.ts";
import { LoopFanout } from "../../src/lib/loop-fanout.ts";
import { SendResult, type Frame, type Transport } from "../../src/lib/transport.ts";
import { freezable, NodeClock, type ReplyQueue } from "./sim-backend.ts";

export { logEntries, logHead, ReplyQueue, simBroker, type LogRecord } from "./sim-backend.ts";

/** Bytes a socket's kernel buffer takes before the runtime reports `bufferedAmount` > 0. */
export const KERNEL_BYTES = 16 * 1024;

/** Who connects (the facts the HTTP admission settles before the upgrade). */
export interface SimIdentity {
  room: string;
  clientId: string;
  userId?: string | null;
  format?: "json" | "protobuf";
  displayName?: string;
  /** `?ack=1` */
  reliable?: boolean;
  /** `?resume=<session_id>&last_seq=<n>&epoch=<e>` */
  resume?: { sessionId: string; lastSeq: number; epoch?: number };
  /** No token in the upgrade: the first message must be CLIENT_HELLO with `auth_token`. */
  pendingAuth?: boolean;
}

/**
 * An in-memory socket. Server→client frames wait in {@link wire} until the client reads them;
 * the first {@link KERNEL_BYTES} of unread data count as "in the kernel", the rest as the
 * runtime's `bufferedAmount` (so a client that stops reading becomes a slow consumer).
 */
export class SimSocket implements Transport {
  readonly wire: Frame[] = [];
  #wireBytes = 0;
  /** The server closed it (code, reason); frames sent before stay readable. */
  closedByServer?: { code: number; reason: string };
  /** The TCP connection is gone: nothing more reaches the client. */
  cut = false;
  handle?: Connection;
  #wasBuffered = false;

  send(frame: Frame): SendResult {
    if (this.cut || this.closedByServer) return SendResult.Dropped;
    const before = this.bufferedAmount();
    this.wire.push(frame);
    this.#wireBytes += typeof frame === "string" ? frame.length : frame.byteLength;
    if (this.bufferedAmount() > 0) this.#wasBuffered = true;
    return before > 0 ? SendResult.Queued : SendResult.Sent;
  }
  bufferedAmount(): number {
    return Math.max(0, this.#wireBytes - KERNEL_BYTES);
  }
  close(code: number, reason: string): void {
    this.closedByServer ??= { code, reason };
  }
  /** The client reads up to `max` frames; the runtime reports a drain when its buffer empties. */
  read(max = Infinity): Frame[] {
    const got = this.wire.splice(0, Math.min(max, this.wire.length));
    for (const f of got) this.#wireBytes -= typeof f === "string" ? f.length : f.byteLength;
    if (this.#wasBuffered && this.bufferedAmount() === 0 && !this.cut && !this.closedByServer) {
      this.#wasBuffered = false;
      this.handle?.drain();
    }
    return got;
  }
  /** Drops whatever was in flight (a cut connection). */
  lose(): void {
    this.wire.length = 0;
    this.#wireBytes = 0;
  }
}

/** One client connection as the tests hold it. */
export class SimConn {
  /** `handle` is absent for an upgrade the admission refused. */
  constructor(readonly node: SimNode, readonly socket: SimSocket, readonly handle: Connection | undefined) {
    socket.handle = handle;
    this.#serverOpen = handle !== undefined;
  }
  /** Whether the server still counts it open. */
  #serverOpen: boolean;

  /** The client sends a frame (ignored once the connection is gone or the instance dead). */
  send(frame: Frame): void {
    if (this.socket.cut || this.socket.closedByServer || !this.node.alive || !this.#serverOpen) return;
    this.handle!.message(frame);
  }

  /** A deliberate close by the client (close frame 1000, or another code). */
  close(code = 1000): void {
    this.socket.cut = true;
    this.socket.lose();
    this.serverNotices(code);
  }

  /**
   * The TCP connection breaks (no close frame): frames in flight are lost. The server notices
   * at once (a reset), or only when {@link serverNotices} is called (a half-open socket).
   */
  drop(noticeNow = true): void {
    this.socket.cut = true;
    this.socket.lose();
    if (noticeNow) this.serverNotices(1006);
  }

  /** The server learns that the socket closed (with `code`). */
  serverNotices(code = 1006): void {
    if (!this.#serverOpen || !this.node.alive) return;
    this.#serverOpen = false;
    this.handle!.closed(code, "");
  }

  /** After the server closed it: the runtime reports the close back (as Bun/ws/Deno do). */
  get serverOpen(): boolean {
    return this.#serverOpen && !this.socket.closedByServer;
  }
}

/** Options of a {@link SimNode}. */
export interface SimNodeOptions {
  broker: MemoryBroker;
  clock: ManualClock;
  nodeId: string;
  config?: Partial<Config>;
  /** Store replies wait for the test (asynchronous, as over a network); absent: the memory backend's own timing. */
  replies?: ReplyQueue;
  /** A lone instance without a shared backend (the server without REDIS_URL); `broker` is then unused. */
  standalone?: boolean;
}

/** One instance of the cluster, in process. */
export class SimNode {
  readonly server: Server;
  readonly nodeId: string;
  readonly #clock: NodeClock;
  readonly #keepalive: Keepalive;
  readonly #backend: ReturnType<typeof freezable>;
  readonly conns = new Set<SimConn>();
  alive = true;

  constructor(opts: SimNodeOptions) {
    this.nodeId = opts.nodeId;
    this.#clock = new NodeClock(opts.clock);
    this.#backend = freezable(opts.broker.node(opts.nodeId), opts.replies);
    const config = defaultConfig({ pingIntervalMs: 3_600_000, rateLimitMessages: 0, globalRateLimitMessages: 0, connectRateLimit: 0, ...opts.config, nodeId: opts.nodeId });
    const auth = AuthPolicy.fromConfig(config); // JWT_SECRET in `config` → real token checks
    if (typeof auth === "string") throw new Error(auth);
    const cluster = opts.standalone ? undefined : this.#backend.backend;
    const server = (this.server = new Server({ config, fanout: new LoopFanout(), clock: this.#clock, cluster, auth, runtime: "sim" }));
    this.#keepalive = new Keepalive({
      connections: server.connections, rooms: server.rooms, clock: this.#clock, pingIntervalMs: config.pingIntervalMs, pongTimeoutMs: config.pongTimeoutMs,
      leewayMs: auth.leewaySec * 1000, out: server.out, delivery: server.delivery, acks: server.acks, sequencer: server.sequencer, sessions: server.sessions, replication: server.replication,
    });
    this.#keepalive.start();
    server.start();
  }

  /** An admitted upgrade: the hub takes the socket (SERVER_HELLO may already be on the wire). */
  open(id: SimIdentity): SimConn {
    const socket = new SimSocket();
    // What the HTTP admission refuses before the upgrade (409: the client id is held by another
    // user here). The client sees a connection that closes at once.
    if (!id.resume && !id.pendingAuth && this.server.heldByOther(id.room, id.clientId, id.userId ?? null)) {
      socket.close(4409, "client_id is held by another user (HTTP 409 at the upgrade)");
      return new SimConn(this, socket, undefined);
    }
    const handle = this.server.open({
      roomId: id.room,
      clientId: id.clientId,
      claimedClientId: id.clientId,
      userId: id.userId ?? null,
      format: id.format ?? "json",
      displayName: id.displayName,
      reliable: id.reliable,
      resume: id.resume,
      pendingAuth: id.pendingAuth,
    }, socket);
    const conn = new SimConn(this, socket, handle);
    this.conns.add(conn);
    return conn;
  }

  /**
   * kill -9: the process stops. Its timers stop (no heartbeats), its sockets vanish without a
   * close frame (clients see 1006, the hub never hears of it), its pending cluster calls never
   * return, its bus subscriptions end; what it stored in the broker stays for a survivor to reap.
   */
  kill(): void {
    this.alive = false;
    this.#clock.kill();
    this.#backend.freeze();
    for (const c of this.conns) {
      c.socket.cut = true;
      c.socket.lose();
    }
  }

  /** `/ws/{room}/stats`: every connection of the room on every instance, as this one lists them. */
  async roomStats(room: string): Promise<{ client_id: string; node_id: string }[]> {
    const s = await roomStats(this.server.stats, room);
    return s.connections.map((c) => ({ client_id: c.client_id, node_id: c.node_id }));
  }

  /** A graceful stop (SIGTERM after the drain): timers stop and the backend closes. */
  async stop(): Promise<void> {
    this.#keepalive.stop();
    this.server.stop();
    this.#clock.kill();
    this.alive = false;
    await this.#backend.backend.close();
  }
}
