/**
 * The Redis side of {@link RoomControlStore}: one hash per room, `P:{room}:control`, with the
 * fields `lock` (RoomLock JSON), `mute:<client id>` ("1") and `kick:<client id>` (until, ms).
 * Hash-tagged by room like every room key. No expiry: a lock holds until unlocked, a mute until
 * unmuted; kick fields are removed once read after their time.
 * @module
 */
import type { Clock } from "../lib/clock.ts";
import type { RoomControl, RoomControlStore, RoomLock } from "./control.ts";
import type { RedisLink } from "./redis-link.ts";

/** Room moderation state in one Redis hash per room. */
export class RedisControl implements RoomControlStore {
  constructor(readonly link: RedisLink, readonly clock: Clock) {}

  #key(room: string): string {
    return `${this.link.keys.prefix}:{${room}}:control`;
  }

  async get(room: string): Promise<RoomControl> {
    const all = await this.link.run("read room control", () => this.link.cmd.hgetall(this.#key(room)));
    const out: RoomControl = { muted: [], kicked: {} };
    const stale: string[] = [];
    const now = this.clock.now();
    for (const [field, value] of Object.entries(all)) {
      if (field === "lock") {
        try {
          out.lock = JSON.parse(value) as RoomLock;
        } catch {
          stale.push(field);
        }
      } else if (field.startsWith("mute:")) out.muted.push(field.slice(5));
      else if (field.startsWith("kick:")) {
        if (Number(value) > now) out.kicked[field.slice(5)] = Number(value);
        else stale.push(field);
      }
    }
    if (stale.length) void this.link.run("tidy room control", () => this.link.cmd.hdel(this.#key(room), ...stale)).catch(() => {});
    return out;
  }

  async setLock(room: string, lock: RoomLock | undefined): Promise<void> {
    const key = this.#key(room);
    await this.link.run("set room lock", () => (lock ? this.link.cmd.hset(key, "lock", JSON.stringify(lock)) : this.link.cmd.hdel(key, "lock")));
  }

  async setMuted(room: string, clientId: string, muted: boolean): Promise<void> {
    const key = this.#key(room);
    await this.link.run("set mute", () => (muted ? this.link.cmd.hset(key, `mute:${clientId}`, "1") : this.link.cmd.hdel(key, `mute:${clientId}`)));
  }

  async kick(room: string, clientId: string, until: number): Promise<void> {
    await this.link.run("record kick", () => this.link.cmd.hset(this.#key(room), `kick:${clientId}`, String(until)));
  }
}
