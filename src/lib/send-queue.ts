/**
 * The send queue of a slow connection: frames wait here, in order, while the socket's own
 * buffer is over SLOW_CONSUMER_SOFT_BYTES. Latest-wins frames (position updates) carry a key
 * (the entity id): a newer one replaces the waiting older one, which is how a slow client ends
 * up with the newest position of each entity and every reliable message, in order.
 * @module
 */
import type { Frame } from "./transport.ts";

interface Item {
  frame: Frame;
  bytes: number;
  key?: string;
}

/** Ordered frames with per-key coalescing. O(1) push and shift. */
export class SendQueue {
  #items: (Item | undefined)[] = [];
  #head = 0;
  readonly #latest = new Map<string, number>();
  /** Bytes waiting. */
  bytes = 0;
  /** Frames waiting. */
  length = 0;
  /** Frames replaced by a newer one with the same key. */
  coalesced = 0;

  /** Adds a frame; with a `key`, a waiting frame with the same key is dropped (latest wins). */
  push(frame: Frame, bytes: number, key?: string): void {
    if (key !== undefined) {
      const at = this.#latest.get(key);
      if (at !== undefined) {
        const old = this.#items[at]!;
        this.#items[at] = undefined;
        this.bytes -= old.bytes;
        this.length--;
        this.coalesced++;
      }
      this.#latest.set(key, this.#items.length);
    }
    this.#items.push({ frame, bytes, key });
    this.bytes += bytes;
    this.length++;
  }

  /**
   * Sends waiting frames in order through `send` until it returns false (the socket is full
   * again) or the queue is empty. Returns how many were sent.
   */
  flush(send: (frame: Frame) => boolean): number {
    let sent = 0;
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head];
      if (item) {
        this.#items[this.#head] = undefined;
        this.bytes -= item.bytes;
        this.length--;
        if (item.key !== undefined) this.#latest.delete(item.key);
        sent++;
        this.#head++;
        if (!send(item.frame)) break;
      } else this.#head++;
    }
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) this.#compact();
    return sent;
  }

  #compact(): void {
    const rest = this.#items.slice(this.#head);
    this.#items = rest;
    this.#head = 0;
    this.#latest.clear();
    rest.forEach((item, i) => item?.key !== undefined && this.#latest.set(item.key, i));
  }
}
