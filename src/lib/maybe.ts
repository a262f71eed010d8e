/**
 * Values that are sometimes ready now and sometimes later: the memory backend answers
 * synchronously, Redis with promises. Chaining with {@link then} keeps the synchronous path
 * synchronous (no microtask), so single-instance delivery order and latency are unchanged.
 * @module
 */

/** A value now or a promise of it. */
export type Maybe<T> = T | Promise<T>;

/** Applies `f` now if `v` is ready, else when it resolves. */
export function then<T, U>(v: Maybe<T>, f: (t: T) => Maybe<U>): Maybe<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}
