/**
 * The Redis backend's bus: per-room publish/subscribe over Redis channels (sharded channels on
 * a Redis Cluster), each frame wrapped in the sender's node envelope.
 * @module
 */
import { varintLength, writeVarint } from "../lib/varint.ts";
import { ENVELOPE_BATCH, EnvelopeReader, forEachBatched } from "./shared.ts";
import type { RedisLink } from "./redis-link.ts";
import type { BusCounters, BusHandler, RoomBus } from "./types.ts";

/** Per-room publish/subscribe over Redis channels. */
export class RedisBus implements RoomBus {
  readonly nodeId: string;
  readonly counters: BusCounters;
  readonly #link: RedisLink;
  readonly #reader = new EnvelopeReader();
  readonly #maxInflight: number;
  #handler: BusHandler | null = null;
  #inflight = 0;
  /** Subscriptions in flight, so a repeated subscribe resolves when the first does. */
  readonly #pending = new Map<string, Promise<void>>();
  /** Frames published this tick, per channel, sent together at the end of it (see {@link flush}). */
  readonly #batch = new Map<string, Uint8Array[]>();
  #scheduled = false;

  constructor(link: RedisLink) {
    this.#link = link;
    this.nodeId = link.opts.nodeId;
    this.counters = link.counters;
    this.#maxInflight = link.opts.maxInflight ?? 100_000;
    link.onMessage = this.#onMessage;
    link.beforeCommand = () => this.flush(); // a room-log append must not overtake earlier frames
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

  /**
   * Queues a frame for the room. Frames published in one tick go out together at the end of
   * it, one Redis command per room (a batch envelope when there are several), in order.
   */
  publish(room: string, frame: Uint8Array): void {
    const link = this.#link;
    if (!link.writable || this.#inflight >= this.#maxInflight) {
      this.counters.dropped++;
      return;
    }
    const ch = link.keys.room(room).channel;
    const list = this.#batch.get(ch);
    if (list) list.push(frame);
    else this.#batch.set(ch, [frame]);
    this.counters.published++;
    if (!this.#scheduled) {
      this.#scheduled = true;
      later(this.#flushNow);
    }
  }

  readonly #flushNow = (): void => this.flush();

  /** Sends what this tick queued (also called before any other command, to keep the order). */
  flush(): void {
    this.#scheduled = false;
    if (this.#batch.size === 0) return;
    const link = this.#link;
    const h = link.header;
    for (const [ch, frames] of this.#batch) {
      try {
        let env: Buffer;
        if (frames.length === 1) {
          env = Buffer.allocUnsafe(h.length + frames[0].length);
          env.set(h, 0);
          env.set(frames[0], h.length);
        } else {
          let size = h.length;
          for (const f of frames) size += varintLength(f.length) + f.length;
          env = Buffer.allocUnsafe(size);
          env.set(h, 0);
          env[0] = ENVELOPE_BATCH;
          let at = h.length;
          for (const f of frames) {
            at = writeVarint(env, at, f.length);
            env.set(f, at);
            at += f.length;
          }
        }
        link.publish(ch, env).then(this.#sent, this.#lost);
        this.#inflight++;
      } catch {
        this.counters.dropped += frames.length;
        this.counters.errors++;
      }
    }
    this.#batch.clear();
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
    const h = this.#handler;
    if (!h) return;
    const payload = message.subarray(EnvelopeReader.payloadOffset(message));
    try {
      if (message[0] !== ENVELOPE_BATCH) {
        this.counters.received++;
        h(room, payload, from);
      } else if (!forEachBatched(payload, (f) => (this.counters.received++, h(room, f, from)))) this.counters.errors++;
    } catch (e) {
      this.counters.errors++;
      this.#link.log.error("cluster_handler_error", { room, from, error: (e as Error)?.message ?? String(e) });
    }
  };

  onFrame(handler: BusHandler): void {
    this.#handler = handler;
  }
  /** Rooms this node wants to receive. */
  get rooms(): string[] {
    return [...this.#link.wanted.values()];
  }
  async close(): Promise<void> {
    for (const room of this.rooms) await this.unsubscribe(room);
  }
}

// The end of the current tick: after every frame a socket read delivered, before the next I/O.
const later: (f: () => void) => void = (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate ?? ((f) => setTimeout(f, 0));
