/** Topic fan-out in JavaScript, for runtimes without native topics. @module */
import type { Fanout, Frame, Transport } from "./transport.ts";

/**
 * A {@link Fanout} that keeps topic membership in JavaScript and calls `send` per subscriber.
 * Used by runtimes without native topic publish (Node, Deno). The frame is the same object for
 * every recipient, so any framing an adapter caches on it is done once per broadcast.
 */
export class LoopFanout implements Fanout {
  readonly #topics = new Map<string, Set<Transport>>();

  subscribe(transport: Transport, topic: string): void {
    let members = this.#topics.get(topic);
    if (!members) this.#topics.set(topic, (members = new Set()));
    members.add(transport);
  }

  unsubscribe(transport: Transport, topic: string): void {
    const members = this.#topics.get(topic);
    if (!members) return;
    members.delete(transport);
    if (members.size === 0) this.#topics.delete(topic);
  }

  publish(topic: string, frame: Frame, except?: Transport): void {
    const members = this.#topics.get(topic);
    if (!members) return;
    for (const t of members) if (t !== except) t.send(frame);
  }

  /** Number of topics with at least one subscriber (for tests and metrics). */
  get topicCount(): number {
    return this.#topics.size;
  }
}
