/**
 * Room moderation state shared by every instance (POST /moderation/*): a room's lock, its muted
 * clients and the clients recently kicked. One small interface by intent, with a memory
 * implementation (per broker, so in-process nodes share it) and a Redis one (one hash per room,
 * see redis-control.ts). State stays until changed — a lock holds until unlocked, a mute until
 * unmuted — and a kick record until its time passes.
 * @module
 */
import type { MemoryBroker } from "./memory-broker.ts";

/** Who locked a room, when and why. */
export interface RoomLock {
  by_client_id: string;
  reason: string;
  /** When it was locked (ms since the epoch). */
  since: number;
}

/** The moderation state of one room. */
export interface RoomControl {
  lock?: RoomLock;
  /** Client ids whose voice is not relayed. */
  muted: string[];
  /** Client id → until when (ms) it may not rejoin (kicked). */
  kicked: Record<string, number>;
}

/** Reads and changes the moderation state of rooms. Memory answers `get` synchronously. */
export interface RoomControlStore {
  get(room: string): RoomControl | Promise<RoomControl>;
  /** Locks (`lock`) or unlocks (`undefined`) the room. */
  setLock(room: string, lock: RoomLock | undefined): Promise<void>;
  setMuted(room: string, clientId: string, muted: boolean): Promise<void>;
  /** Records that `clientId` was kicked and may not rejoin before `until` (ms). */
  kick(room: string, clientId: string, until: number): Promise<void>;
}

interface Entry {
  lock?: RoomLock;
  muted: Set<string>;
  kicked: Map<string, number>;
}
const byBroker = new WeakMap<MemoryBroker, Map<string, Entry>>();

/** The memory store of a broker's nodes (one state per broker). */
export class MemoryControl implements RoomControlStore {
  readonly #rooms: Map<string, Entry>;
  constructor(readonly broker: MemoryBroker) {
    let rooms = byBroker.get(broker);
    if (!rooms) byBroker.set(broker, (rooms = new Map()));
    this.#rooms = rooms;
  }

  #entry(room: string): Entry {
    this.broker.check();
    let e = this.#rooms.get(room);
    if (!e) this.#rooms.set(room, (e = { muted: new Set(), kicked: new Map() }));
    return e;
  }

  #tidy(room: string, e: Entry): void {
    const now = this.broker.clock.now();
    for (const [id, until] of e.kicked) if (until <= now) e.kicked.delete(id);
    if (!e.lock && e.muted.size === 0 && e.kicked.size === 0) this.#rooms.delete(room);
  }

  get(room: string): RoomControl {
    this.broker.check();
    const e = this.#rooms.get(room);
    if (!e) return { muted: [], kicked: {} };
    this.#tidy(room, e);
    return { lock: e.lock && { ...e.lock }, muted: [...e.muted], kicked: Object.fromEntries(e.kicked) };
  }

  async setLock(room: string, lock: RoomLock | undefined): Promise<void> {
    const e = this.#entry(room);
    e.lock = lock && { ...lock };
    this.#tidy(room, e);
  }

  async setMuted(room: string, clientId: string, muted: boolean): Promise<void> {
    const e = this.#entry(room);
    if (muted) e.muted.add(clientId);
    else e.muted.delete(clientId);
    this.#tidy(room, e);
  }

  async kick(room: string, clientId: string, until: number): Promise<void> {
    const e = this.#entry(room);
    e.kicked.set(clientId, until);
    this.#tidy(room, e);
  }
}
