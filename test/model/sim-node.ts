/**
 * THE ADAPTER: the one file through which the model test (test/model/) and the in-process
 * guarantee tests (test/guarantees/) touch the hub's API. Issue 14 reshapes that API — port
 * this file and nothing else. Everything here is what an adapter and a deployment do to a hub:
 * build it on a cluster backend, open a connection, hand it a frame, close it, let its timers
 * run, kill it, ask it for stats. The tests never reach into the hub past this file.
 *
 * A {@link SimNode} is one instance: a Hub on a {@link MemoryBroker} shared with the other
 * instances (the broker stands in for Redis), its timers on the shared {@link ManualClock}
 * (so killing the instance cancels exactly its timers), and {@link SimSocket}s — in-memory
 * sockets whose server→client frames stay "on the wire" until the client reads them, so a TCP
 * drop loses what was in flight and a client that does not read looks slow to the server.
 */
import type { ClusterBackend, PresenceStore, RoomLog } from "../../src/cluster/types.ts";
import { AuthPolicy } from "../../src/auth/policy.ts";
import { MemoryBroker, type MemoryNode } from "../../src/cluster/memory.ts";
import { defaultConfig, type Config } from "../../src/config.ts";
import type { Clock, ManualClock, TimerHandle } from "../../src/core/clock.ts";
import type { Connection } from "../../src/core/connection.ts";
import { Hub } from "../../src/core/hub.ts";
import { Keepalive } from "../../src/core/keepalive.ts";
import { LoopFanout } from "../../src/core/loop-fanout.ts";
import { roomStats } from "../../src/core/stats.ts";
import { SendResult, type Frame, type Transport } from "../../src/core/transport.ts";
import { decodeFrame } from "../../src/delivery/frames.ts";
import { decodeBinary } from "../../src/protocol/proto.ts";
import type { Envelope } from "../../src/protocol/types.ts";

/** Bytes a socket's kernel buffer takes before the runtime reports `bufferedAmount` > 0. */
export const KERNEL_BYTES = 16 * 1024;

/** A shared broker for a simulated cluster: manual bus delivery, a history long enough to be the ground truth. */
export function simBroker(clock: ManualClock, nodeTtlMs: number): MemoryBroker {
  return new MemoryBroker({ clock, nodeTtlMs, delivery: "manual", historySize: 1_000_000, historyTtlMs: 1e12 });
}

/** One room log entry as the oracle sees it (decoded from the broker's history). */
export interface LogRecord {
  seq: number;
  epoch: number;
  /** The sender's client id ("" for the server). */
  sender: string;
  /** Only this client id receives it ("" for everyone). */
  only: string;
  msg: Envelope;
}

/** The room's log position (epoch 0, seq 0 before its first entry), read without the hub and regardless of outages. */
export function logHead(broker: MemoryBroker, room: string): { epoch: number; seq: number } {
  const s = broker.logs.state(room, false);
  return s ? { epoch: s.epoch, seq: s.seq } : { epoch: 0, seq: 0 };
}

/** Every entry of the room's log, oldest first (the broker of {@link simBroker} keeps them all). */
export function logEntries(broker: MemoryBroker, room: string): LogRecord[] {
  const s = broker.logs.state(room, false);
  if (!s) return [];
  const out: LogRecord[] = [];
  for (let q = s.oldest; q <= s.seq; q++) {
    const e = s.ring[q % broker.logs.historySize];
    if (!e) continue;
    const f = decodeFrame(e.frame);
    out.push({ seq: e.seq, epoch: e.epoch, sender: f.sender, only: f.only, msg: decodeBinary(f.payload) });
  }
  return out;
}

/** A node's timers on the shared clock; killing the node cancels them (and refuses new ones). */
class NodeClock implements Clock {
  readonly #live = new Set<TimerHandle>();
  #dead = false;
  constructor(readonly base: ManualClock) {}
  now(): number {
    return this.base.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    if (this.#dead) return -1;
    const h = this.base.setTimeout(() => {
      this.#live.delete(h);
      if (!this.#dead) fn();
    }, ms);
    this.#live.add(h);
    return h;
  }
  clearTimeout(h: TimerHandle): void {
    this.#live.delete(h);
    this.base.clearTimeout(h);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    if (this.#dead) return -1;
    const h = this.base.setInterval(() => !this.#dead && fn(), ms);
    this.#live.add(h);
    return h;
  }
  clearInterval(h: TimerHandle): void {
    this.#live.delete(h);
    this.base.clearInterval(h);
  }
  kill(): void {
    this.#dead = true;
    for (const h of this.#live) this.base.clearTimeout(h);
    this.#live.clear();
  }
}

const never = <T>() => new Promise<T>(() => {});

/**
 * Replies of the shared store held back until the test lets them through, so an instance's
 * asynchronous work (opening a room, finding a session) interleaves with bus traffic as it
 * does over a network. Without one, the memory backend answers at once (its log synchronously).
 */
export class ReplyQueue {
  readonly #waiting: (() => void)[] = [];
  /** Holds `v` until the next {@link flush}. */
  hold<T>(v: T): Promise<T> {
    return new Promise((resolve) => this.#waiting.push(() => resolve(v)));
  }
  /** Lets every reply waiting so far through; returns how many. */
  flush(): number {
    const n = this.#waiting.length;
    for (const f of this.#waiting.splice(0, n)) f();
    return n;
  }
}

/**
 * The node's view of the broker, frozen when the node dies: a killed process makes no more
 * calls and sees no more answers (a continuation still waiting for the store never runs).
 * With `replies`, every store and log call answers asynchronously, as Redis does.
 */
function freezable(node: MemoryNode, replies?: ReplyQueue): { backend: ClusterBackend; freeze(): void } {
  let frozen = false;
  const gate = <T extends object>(target: T, log: boolean): T =>
    new Proxy(target, {
      get(t, key, recv) {
        const v = Reflect.get(t, key, recv);
        if (typeof v !== "function") return v;
        if (key === "status" || key === "onStatus" || key === "onFrame" || key === "publish") {
          return (...args: unknown[]) => (frozen && key === "publish" ? undefined : v.apply(t, args));
        }
        return (...args: unknown[]) => {
          if (frozen) {
            if (log && !replies) throw new Error("This instance is dead");
            return never();
          }
          let r: unknown;
          try {
            r = v.apply(t, args);
          } catch (e) {
            // The memory log throws while the broker is "down"; Redis rejects. Reject, as Redis does.
            if (!log) throw e;
            r = Promise.reject(e);
          }
          if (!(r instanceof Promise)) return replies ? replies.hold(r).then((x) => (frozen ? never() : x)) : r;
          const late = replies ? <X>(x: X) => replies.hold(x) : <X>(x: X) => Promise.resolve(x);
          return r.then(
            (x) => late(x).then((y) => (frozen ? never() : y)),
            (e) => late(e).then((y) => (frozen ? never() : Promise.reject(y))),
          );
        };
      },
    });
  const backend: ClusterBackend = {
    kind: "memory",
    bus: gate(node.bus, false),
    log: gate(node.log as RoomLog, true),
    presence: gate(node.presence as PresenceStore, false),
    close: () => node.close(),
  };
  return {
    backend,
    freeze() {
      frozen = true;
      void node.bus.close(); // its subscriptions die with its Redis connection
    },
  };
}

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
  constructor(readonly node: SimNode, readonly socket: SimSocket, readonly handle: Connection) {
    socket.handle = handle;
  }
  /** Whether the server still counts it open. */
  #serverOpen = true;

  /** The client sends a frame (ignored once the connection is gone or the instance dead). */
  send(frame: Frame): void {
    if (this.socket.cut || this.socket.closedByServer || !this.node.alive || !this.#serverOpen) return;
    this.handle.message(frame);
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
    this.handle.closed(code, "");
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
  readonly hub: Hub;
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
    const config = defaultConfig({ pingIntervalMs: 3_600_000, rateLimitMessages: 0, globalRateLimitMessages: 0, connectRateLimit: 0, ...opts.config });
    const auth = AuthPolicy.fromConfig(config); // JWT_SECRET in `config` → real token checks
    if (typeof auth === "string") throw new Error(auth);
    const cluster = opts.standalone ? undefined : this.#backend.backend;
    this.hub = new Hub({ config, fanout: new LoopFanout(), clock: this.#clock, cluster, auth, nodeId: opts.nodeId, runtime: "sim" });
    this.#keepalive = new Keepalive(this.hub);
    this.#keepalive.start();
    this.hub.link.start();
  }

  /** An admitted upgrade: the hub takes the socket (SERVER_HELLO may already be on the wire). */
  open(id: SimIdentity): SimConn {
    const socket = new SimSocket();
    const handle = this.hub.open({
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
    const s = await roomStats(this.hub, room);
    return s.connections.map((c) => ({ client_id: c.client_id, node_id: c.node_id }));
  }

  /** A graceful stop (SIGTERM after the drain): timers stop and the backend closes. */
  async stop(): Promise<void> {
    this.#keepalive.stop();
    this.hub.link.stop();
    this.#clock.kill();
    this.alive = false;
    await this.#backend.backend.close();
  }
}
