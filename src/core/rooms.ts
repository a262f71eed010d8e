/**
 * The rooms open on this instance: a room opens with its first member (its shared state loaded
 * by the replication) and closes when nothing keeps it (no members, nobody joining, no session
 * that may resume here).
 * @module
 */
import type { Clock } from "../lib/clock.ts";
import type { Replication } from "./replication.ts";
import { Room } from "./room.ts";
import type { WorldLimits } from "./world.ts";

/** The rooms of this instance. */
export class Rooms {
  readonly #rooms = new Map<string, Room>();

  constructor(readonly replication: Replication, readonly clock: Clock, readonly limits: WorldLimits) {}

  get(id: string): Room | undefined {
    return this.#rooms.get(id);
  }

  /** The open room `id`, opened now when it is not (a promise in `room.opening` while loading). */
  acquire(id: string): Room {
    let room = this.#rooms.get(id);
    if (room) return room;
    room = new Room(id, this.clock.now(), this.limits);
    this.#rooms.set(id, room);
    const opening = this.replication.open(room);
    if (opening instanceof Promise) {
      const r = room;
      r.opening = opening.then(
        () => {
          r.opening = undefined;
          for (const run of r.waiting.splice(0)) run();
        },
        (e) => {
          // Not loaded: forget it, so the next join tries again (the joins waiting fail).
          if (this.#rooms.get(id) === r) this.#rooms.delete(id);
          this.replication.close(r);
          throw e;
        },
      );
    }
    return room;
  }

  /** The open room, or a detached one to append through (nothing here receives it). */
  channel(id: string): Room {
    const open = this.#rooms.get(id);
    if (open) return open;
    const room = new Room(id, this.clock.now(), this.limits);
    room.ephemeral = true;
    return room;
  }

  /** Closes `room` when nothing keeps it open any more. */
  release(room: Room): void {
    if (!room.empty || this.#rooms.get(room.id) !== room) return;
    this.#rooms.delete(room.id);
    this.replication.close(room);
  }

  values(): IterableIterator<Room> {
    return this.#rooms.values();
  }

  get size(): number {
    return this.#rooms.size;
  }
}
