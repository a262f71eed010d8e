/**
 * Connection caps that hold under concurrency: admission reserves a place before any
 * asynchronous step (the token check), and the place is counted until the connection has
 * joined its room — or released on every failure path. MAX_CONNECTIONS counts open connections
 * plus upgrades in flight; MAX_ROOM_CONNECTIONS counts members plus everyone on their way in
 * (first-message auth included). A reservation whose upgrade never completes (the client went
 * away in between) is released after {@link UPGRADE_TIMEOUT_MS}.
 * @module
 */
import type { Clock, TimerHandle } from "../lib/clock.ts";

/** A reserved place whose socket has not opened after this long is given back. */
export const UPGRADE_TIMEOUT_MS = 30_000;

/** A reserved place. */
export interface Reservation {
  /** The upgrade completed: the connection itself now counts against MAX_CONNECTIONS. */
  opened(): void;
  /** The connection joined its room (it counts as a member now), failed, or closed. Idempotent. */
  release(): void;
}

/** The two caps. */
export class Capacity {
  #upgrading = 0;
  readonly #rooms = new Map<string, number>();
  /** Places whose socket has not opened yet, oldest first (a Set keeps insertion order). */
  readonly #pending = new Set<Place>();
  /** One timer for all pending places (a timer per upgrade was ~0.3 KB of heap per connect). */
  #sweep: TimerHandle | undefined;

  constructor(
    readonly clock: Clock,
    readonly maxConnections: number,
    readonly maxRoomConnections: number,
    readonly connections: () => number,
    readonly members: (room: string) => number,
  ) {}

  /** Reserves a place in `room`, or says which cap is reached. */
  reserve(room: string): Reservation | "over_capacity" | "room_full" {
    if (this.connections() + this.#upgrading >= this.maxConnections) return "over_capacity";
    const inRoom = this.#rooms.get(room) ?? 0;
    if (this.members(room) + inRoom >= this.maxRoomConnections) return "room_full";
    this.#upgrading++;
    this.#rooms.set(room, inRoom + 1);
    const place = new Place(this, room, this.clock.now());
    this.#pending.add(place);
    if (this.#sweep === undefined) this.#sweep = this.clock.setTimeout(() => this.#expire(), UPGRADE_TIMEOUT_MS);
    return place;
  }

  /** @internal A place's upgrade completed or failed. */
  opened(place: Place): void {
    this.#upgrading--;
    this.#pending.delete(place);
    // Nothing left to expire: no timer outlives the upgrades (an embedding server stops cleanly).
    if (this.#pending.size === 0 && this.#sweep !== undefined) this.clock.clearTimeout(this.#sweep), (this.#sweep = undefined);
  }

  /** @internal A place is given back. */
  released(room: string): void {
    const n = (this.#rooms.get(room) ?? 1) - 1;
    if (n <= 0) this.#rooms.delete(room);
    else this.#rooms.set(room, n);
  }

  /** Gives back the places whose upgrade has been pending for UPGRADE_TIMEOUT_MS; waits for the next one due. */
  #expire(): void {
    this.#sweep = undefined;
    const now = this.clock.now();
    for (const place of this.#pending) {
      if (now - place.at < UPGRADE_TIMEOUT_MS) {
        this.#sweep = this.clock.setTimeout(() => this.#expire(), place.at + UPGRADE_TIMEOUT_MS - now);
        return;
      }
      place.release();
    }
  }
}

/** One reserved place: plain fields, no closures (one exists per connect in flight). */
class Place implements Reservation {
  #upgrading = true;
  #held = true;
  constructor(
    readonly capacity: Capacity,
    readonly room: string,
    readonly at: number,
  ) {}
  opened(): void {
    if (!this.#upgrading) return;
    this.#upgrading = false;
    this.capacity.opened(this);
  }
  release(): void {
    this.opened();
    if (!this.#held) return;
    this.#held = false;
    this.capacity.released(this.room);
  }
}
