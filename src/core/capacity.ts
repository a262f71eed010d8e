/**
 * Connection caps that hold under concurrency: admission reserves a place before any
 * asynchronous step (the token check), and the place is counted until the connection has
 * joined its room — or released on every failure path. MAX_CONNECTIONS counts open connections
 * plus upgrades in flight; MAX_ROOM_CONNECTIONS counts members plus everyone on their way in
 * (first-message auth included). A reservation whose upgrade never completes (the client went
 * away in between) is released after {@link UPGRADE_TIMEOUT_MS}.
 * @module
 */
import type { Clock } from "../lib/clock.ts";

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
    let upgrading = true;
    let held = true;
    const opened = () => {
      if (!upgrading) return;
      upgrading = false;
      this.#upgrading--;
      this.clock.clearTimeout(timer);
    };
    const release = () => {
      opened();
      if (!held) return;
      held = false;
      const n = (this.#rooms.get(room) ?? 1) - 1;
      if (n <= 0) this.#rooms.delete(room);
      else this.#rooms.set(room, n);
    };
    const timer = this.clock.setTimeout(() => upgrading && release(), UPGRADE_TIMEOUT_MS);
    return { opened, release };
  }
}
