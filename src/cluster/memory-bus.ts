/**
 * The memory backend's bus: per-room publish/subscribe between the nodes of one broker (the
 * broker queues and delivers the frames).
 * @module
 */
import type { MemoryBroker } from "./memory-broker.ts";
import type { BusCounters, BusHandler, RoomBus } from "./types.ts";

/** Per-room publish/subscribe between the nodes of one broker. */
export class MemoryBus implements RoomBus {
  readonly counters: BusCounters = { published: 0, received: 0, dropped: 0, errors: 0, reconnects: 0 };
  readonly #rooms = new Set<string>();
  #handler: BusHandler | null = null;
  #closed = false;

  constructor(readonly broker: MemoryBroker, readonly nodeId: string) {}

  async subscribe(room: string): Promise<void> {
    if (this.#closed || this.#rooms.has(room)) return;
    this.#rooms.add(room);
    let set = this.broker.subs.get(room);
    if (!set) this.broker.subs.set(room, (set = new Set()));
    set.add(this);
  }

  async unsubscribe(room: string): Promise<void> {
    if (!this.#rooms.delete(room)) return;
    const set = this.broker.subs.get(room);
    if (!set) return;
    set.delete(this);
    if (set.size === 0) this.broker.subs.delete(room);
  }

  publish(room: string, frame: Uint8Array): void {
    if (this.#closed) return;
    if (!this.broker.available) {
      this.counters.dropped++;
      return;
    }
    this.counters.published++;
    this.broker.fanout(this, room, frame);
  }

  /** @internal A frame for this node (dropped when it no longer receives the room). */
  receive(room: string, frame: Uint8Array, from: string): void {
    if (this.#closed || !this.#rooms.has(room)) return;
    this.counters.received++;
    const h = this.#handler;
    if (!h) return;
    try {
      h(room, frame, from);
    } catch (e) {
      this.counters.errors++;
      this.broker.log.error("cluster_handler_error", { room, from, error: (e as Error)?.message ?? String(e) });
    }
  }

  onFrame(handler: BusHandler): void {
    this.#handler = handler;
  }

  /** Rooms this node receives. */
  get rooms(): ReadonlySet<string> {
    return this.#rooms;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    for (const room of [...this.#rooms]) await this.unsubscribe(room);
    this.#closed = true;
  }
}
