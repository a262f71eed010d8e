/**
 * Key and channel names of the Redis backend (the layout is in `redis.ts`), and the byte view
 * ioredis needs for binary arguments.
 * @module
 */
import calculateSlot from "cluster-key-slot";

/** Keys and channel of one room (all in the slot of the room's hash tag). */
export interface RoomKeys {
  channel: string;
  log: string;
  hist: string;
  members: string;
  players: string;
  entities: string;
  owners: string;
  holders: string;
  sessions: string;
}

/** Builds (and caches) key names; see the module comment of `redis.ts` for the layout. */
export class RedisKeys {
  readonly #rooms = new Map<string, RoomKeys>();
  readonly beats: string;
  readonly info: string;
  readonly due: string;

  constructor(readonly prefix: string) {
    if (!prefix || /[{}]/.test(prefix)) throw new Error(`Redis prefix must be non-empty and without braces, got "${prefix}"`);
    this.beats = `${prefix}:{@nodes}:beats`;
    this.info = `${prefix}:{@nodes}:info`;
    this.due = `${prefix}:{@due}:holds`;
  }
  room(room: string): RoomKeys {
    let k = this.#rooms.get(room);
    if (k) return k;
    const base = `${this.prefix}:{${room}}:`;
    k = {
      channel: `${base}bus`,
      log: `${base}log`,
      hist: `${base}hist`,
      members: `${base}members`,
      players: `${base}players`,
      entities: `${base}entities`,
      owners: `${base}owners`,
      holders: `${base}holders`,
      sessions: `${base}sessions`,
    };
    if (this.#rooms.size >= 10_000) this.#rooms.clear();
    this.#rooms.set(room, k);
    return k;
  }
  nodeRooms(nodeId: string): string {
    return `${this.prefix}:{@node:${nodeId}}:rooms`;
  }
  reaper(nodeId: string): string {
    return `${this.prefix}:{@node:${nodeId}}:reaper`;
  }
}

/** A view of `u8` as a Buffer (no copy) — ioredis sends only Buffers as binary arguments. */
export function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** The Redis Cluster slot of a key or shard channel (CRC16 of its hash tag, mod 16384). */
export function keySlot(key: string): number {
  return calculateSlot(key);
}
