/**
 * A room's members, kept in the map that also finds a member by its client id.
 *
 * Why not a `Set` of members beside that map: on JavaScriptCore (Bun) a `Map` or `Set` costs
 * ~80–100 bytes per entry in a room of a hundred, and the set held nothing the map did not,
 * except during a takeover — a new connection admitted under a client id that an older,
 * still-open connection holds. That older one is kept in a small second set until it goes
 * (bench/ANALYSIS.md, "Idle memory per connection").
 * @module
 */

/** What a member needs: the client id it is found by (fixed while it is a member). */
export interface Member {
  readonly clientId: string;
}

/** The members of one room: iterable like a `Set`, and {@link Members.holder} by client id. */
export class Members<R extends Member> implements Iterable<R> {
  /** The member holding each client id: the one admitted last under it. */
  readonly #holders = new Map<string, R>();
  /** Members whose client id a later member took (until they leave): rare, made when first needed. */
  #displaced?: Set<R>;

  /** How many members. */
  get size(): number {
    return this.#holders.size + (this.#displaced?.size ?? 0);
  }

  /** The member holding `clientId` (the newest admitted under it), if it still is a member. */
  holder(clientId: string): R | undefined {
    return this.#holders.get(clientId);
  }

  /** Whether `m` is a member. */
  has(m: R): boolean {
    return this.#holders.get(m.clientId) === m || (this.#displaced?.has(m) ?? false);
  }

  /** Makes `m` a member and the holder of its client id; a member that held it stays, displaced. */
  add(m: R): void {
    const before = this.#holders.get(m.clientId);
    if (before === m) return;
    this.#displaced?.delete(m);
    if (before) (this.#displaced ??= new Set()).add(before);
    this.#holders.set(m.clientId, m);
  }

  /** Removes `m`; false when it was not a member. A displaced member does not become the holder again. */
  delete(m: R): boolean {
    if (this.#holders.get(m.clientId) === m) return this.#holders.delete(m.clientId);
    if (this.#displaced?.delete(m)) return true;
    // A member's client id never changes while it is one; should it ever, find it by value.
    for (const [id, held] of this.#holders) if (held === m) return this.#holders.delete(id);
    return false;
  }

  /** The holders first (in admission order), then any displaced members. */
  *[Symbol.iterator](): Iterator<R> {
    yield* this.#holders.values();
    if (this.#displaced) yield* this.#displaced;
  }
}
