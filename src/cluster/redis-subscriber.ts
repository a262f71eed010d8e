/**
 * The receiving side of the Redis bus on one Redis server: one connection that SUBSCRIBEs to
 * every wanted room channel, again after each reconnection.
 * @module
 */
import type { Cluster, Redis } from "ioredis";

/** What a subscriber reports to (the link). */
export interface SubscriberHooks {
  /** channel → room of every wanted channel (kept by the link; subscribers only read it). */
  readonly wanted: ReadonlyMap<string, string>;
  message(channel: Buffer, message: Buffer): void;
  /** A connection or command error: counted and kept as the reason of an outage. */
  error(e: Error): void;
  /** Something changed that may change health. */
  changed(): void;
}

/** The receiving side: one connection (SUBSCRIBE) or one per cluster shard (SSUBSCRIBE). */
export interface Subscriptions {
  /** Every wanted channel is subscribed on a ready connection. */
  readonly ready: boolean;
  /**
   * Subscribes a channel just added to `wanted`. Resolves once subscribed, or at once while
   * its connection is away (it is subscribed when the connection is back).
   */
  subscribe(channel: string): Promise<void>;
  /** Unsubscribes a channel just removed from `wanted` (never rejects). */
  unsubscribe(channel: string): Promise<void>;
  /** Closes every connection (pending replies first, briefly). */
  close(): Promise<void>;
}

/** SUBSCRIBE on one connection. */
export class ChannelSubscriber implements Subscriptions {
  /** Whether every wanted channel was subscribed since the connection last became ready. */
  #synced = false;

  constructor(readonly conn: Redis, readonly hooks: SubscriberHooks) {
    watch(conn, hooks, () => (this.#synced = false));
    conn.on("ready", () => this.#resubscribe());
    conn.on("messageBuffer", hooks.message);
  }

  get ready(): boolean {
    return this.#synced && this.conn.status === "ready";
  }

  subscribe(channel: string): Promise<void> {
    if (this.conn.status !== "ready") return Promise.resolve();
    // a failure means the connection dropped meanwhile: the next "ready" subscribes every wanted channel
    return this.conn.subscribe(channel).then(noop, this.hooks.error);
  }

  async unsubscribe(channel: string): Promise<void> {
    if (this.conn.status !== "ready") return;
    await this.conn.unsubscribe(channel).then(noop, this.hooks.error);
  }

  close(): Promise<void> {
    return endConnection(this.conn);
  }

  /** Subscribes every wanted channel on a fresh connection, then reports. */
  #resubscribe(): void {
    const channels = [...this.hooks.wanted.keys()];
    const done = () => {
      this.#synced = this.conn.status === "ready";
      this.hooks.changed();
    };
    if (channels.length === 0) return done();
    this.conn.subscribe(...channels).then(done, this.hooks.error); // the next "ready" retries
  }
}

/** Reports a connection's errors and state changes (and calls `down` when it stops being ready). */
export function watch(conn: Redis | Cluster, hooks: SubscriberHooks, down?: () => void): void {
  conn.on("error", hooks.error);
  for (const ev of ["close", "end", "reconnecting"]) {
    conn.on(ev, () => {
      down?.();
      hooks.changed();
    });
  }
  conn.on("ready", hooks.changed);
}

/** Quits a connection politely when it is up (at most 1 s), else drops it. */
export async function endConnection(r: Redis | Cluster): Promise<void> {
  if (r.status === "ready") {
    try {
      await Promise.race([r.quit(), new Promise((_, rej) => setTimeout(() => rej(new Error("quit timeout")), 1000))]);
      return;
    } catch {
      // fall through to a hard disconnect
    }
  }
  r.disconnect();
}

/** Does nothing (a settled subscription needs no value). */
export function noop(): void {}
