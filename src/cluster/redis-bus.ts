/**
 * The Redis backend's bus: per-room publish/subscribe over Redis channels (sharded channels on
 * a Redis Cluster), each frame wrapped in the sender's node envelope.
 * @module
 */
import { EnvelopeReader } from "./shared.ts";
import type { RedisLink } from "./redis-link.ts";
import type { BackendStatus, BusHandler, ClusterBus } from "./types.ts";

/** Per-room publish/subscribe over Redis channels. */
export class RedisBus implements ClusterBus {
  readonly nodeId: string;
  readonly counters: RedisLink["counters"];
  readonly #link: RedisLink;
  readonly #reader = new EnvelopeReader();
  readonly #maxInflight: number;
  #handler: BusHandler | null = null;
  #inflight = 0;
  /** Subscriptions in flight, so a repeated subscribe resolves when the first does. */
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
    const p = link.subs.subscribe(ch);
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
    if (!link.closed) await link.subs.unsubscribe(ch);
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
      link.publish(link.keys.room(room).channel, env).then(this.#sent, this.#lost);
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
