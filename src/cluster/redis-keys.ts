/**
 * Key and channel names of the Redis backend (the layout is in `redis.ts`), and the byte view
 * ioredis needs for binary arguments.
 * @module
 */

/** Keys and channel of one room. */
export interface RoomKeys {
  channel: string;
  log: string;
  hist: string;
  members: string;
  players: string;
  entities: string;
  owners: string;
}

/** Builds (and caches) key names; see the module comment for the layout. */
export class RedisKeys {
  readonly #rooms = new Map<string, RoomKeys>();
  readonly beats: string;
  readonly info: string;

  constructor(readonly prefix: string) {
    if (!prefix || /[{}]/.test(prefix)) throw new Error(`Redis prefix must be non-empty and without braces, got "${prefix}"`);
    this.beats = `${prefix}:{@nodes}:beats`;
    this.info = `${prefix}:{@nodes}:info`;
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
  /** One session's key: its own hash tag (sessions spread over a cluster), never a room's (room ids have no `@`). */
  session(id: string): string {
    return `${this.prefix}:{@session:${id}}:record`;
  }
}

/** A view of `u8` as a Buffer (no copy) — ioredis sends only Buffers as binary arguments. */
export function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** CRC16-CCITT (XMODEM) lookup table, as Redis Cluster hashes keys. */
const CRC16 = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();
const utf8 = new TextEncoder();

/** The Redis Cluster slot of a key or shard channel: CRC16 of its hash tag (or of all of it) mod 16384. */
export function keySlot(key: string): number {
  let bytes = utf8.encode(key);
  const open = bytes.indexOf(0x7b); // {
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ b) & 0xff]!;
  return crc & 16383;
}
