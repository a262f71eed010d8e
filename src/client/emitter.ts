/** A tiny typed event emitter (no runtime imports). @module */

// deno-lint-ignore no-explicit-any
type Listener = (...args: any[]) => void;

/** Emits events named by the keys of `E`. A listener that throws does not stop the others. */
export class Emitter<E extends { [K in keyof E]: Listener }> {
  readonly #listeners = new Map<keyof E, Set<Listener>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, fn: E[K]): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => this.off(event, fn);
  }

  /** Removes a listener added with {@link on}. */
  off<K extends keyof E>(event: K, fn: E[K]): void {
    this.#listeners.get(event)?.delete(fn);
  }

  /** Adds a listener that runs once. Returns a function that removes it. */
  once<K extends keyof E>(event: K, fn: E[K]): () => void {
    const off = this.on(event, ((...args: Parameters<E[K]>) => (off(), fn(...args))) as E[K]);
    return off;
  }

  /**
   * Resolves with the arguments of the next `event` that passes `filter`; rejects after
   * `timeoutMs` (default 5000).
   */
  next<K extends keyof E>(event: K, filter: (...args: Parameters<E[K]>) => boolean = () => true, timeoutMs = 5000): Promise<Parameters<E[K]>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (off(), reject(new Error(`No ${String(event)} event within ${timeoutMs} ms`))), timeoutMs);
      const off = this.on(event, ((...args: Parameters<E[K]>) => {
        if (!filter(...args)) return;
        clearTimeout(timer);
        off();
        resolve(args);
      }) as E[K]);
    });
  }

  protected emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(...args);
      } catch (e) {
        // A listener's bug must not break the connection; report it the way an unhandled error is.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
