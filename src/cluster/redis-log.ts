/**
 * The Redis backend's room log: one Lua script per append (the room change, seq, history and
 * publish at once).
 * @module
 */
import { systemClock, type Clock } from "../lib/clock.ts";
import { randomEpoch } from "../lib/ids.ts";
import { CLUSTER_DEFAULTS, sequenced } from "./shared.ts";
import { asBuffer } from "./redis-keys.ts";
import type { RedisLink } from "./redis-link.ts";
import type { Appended, LogEntry, RoomChange, RoomLog } from "./types.ts";

/** The room log: one Lua script per append. */
export class RedisRoomLog implements RoomLog {
  readonly #link: RedisLink;
  readonly #size: number;
  readonly #ttl: number;
  readonly #presenceTtl: number;
  readonly #clock: Clock;

  constructor(link: RedisLink) {
    this.#clock = link.opts.clock ?? systemClock;
    this.#link = link;
    this.#size = Math.max(1, link.opts.historySize ?? CLUSTER_DEFAULTS.historySize);
    this.#ttl = link.opts.historyTtlMs ?? CLUSTER_DEFAULTS.historyTtlMs;
    this.#presenceTtl = link.opts.presenceTtlMs ?? CLUSTER_DEFAULTS.presenceTtlMs;
  }

  /** Rejects at once with {@link ClusterUnavailableError} while Redis is away. */
  append(room: string, frames: Uint8Array[], change: RoomChange = {}): Promise<Appended | null> {
    const link = this.#link;
    if (!link.writable) return Promise.reject(link.unavailable());
    const k = link.keys.room(room);
    const g = change.guard;
    const players = change.players ?? [];
    const entities = change.entities ?? [];
    const despawn = change.despawn ?? [];
    const args: (string | number | Buffer)[] = [
      k.log, k.hist, k.players, k.entities, k.owners, k.holders, k.sessions,
      k.channel, link.header, randomEpoch(), this.#size, this.#ttl, link.publishCommand,
      g?.clientId ?? "", g?.token ?? "", `${g?.superseded ? "2" : g?.detached ? "1" : "0"}${g?.conn ?? ""}`, `${change.release ? "1" : change.reset ? "2" : "0"}${change.presence === "join" ? "J" : change.presence === "leave" ? "L" : ""}`, this.#presenceTtl,
      players.length, entities.length, despawn.length, this.#clock.now(),
      g?.user === undefined ? "" : g.user === null ? "-" : `=${g.user}`,
    ];
    for (const [id, snap] of players) args.push(id, asBuffer(snap));
    for (const [id, owner, snap] of entities) args.push(id, owner, asBuffer(snap));
    for (const id of despawn) args.push(id);
    for (const f of frames) args.push(asBuffer(f));
    link.beforeCommand();
    return link.scripts.gwAppendBuffer(...args).then(
      (r) => {
        if (r[0]!.toString() === "guard") return null; // nothing appended, nothing published
        link.counters.published += frames.length;
        const epoch = Number(r[0]!.toString());
        let seq = Number(r[1]!.toString());
        if (seq === 0) return { entries: [], orphans: r.slice(2).map((b) => b.toString()) }; // a presence change that announced nothing
        const entries = frames.map((f) => ({ seq, epoch, frame: sequenced(f, seq++, epoch) }));
        return { entries, orphans: r.slice(2).map((b) => b.toString()) };
      },
      (e) => {
        throw link.failure("room log append", e);
      },
    );
  }

  async read(room: string, epoch: number, afterSeq: number, limit: number): Promise<LogEntry[] | null> {
    const k = this.#link.keys.room(room);
    const r = await this.#link.run("room log read", () => this.#link.scripts.gwReadBuffer(k.log, k.hist, epoch, afterSeq, Math.max(1, Math.floor(limit))));
    if (r.length < 3 || Number(r[0]!.toString()) !== epoch) return null;
    const out: LogEntry[] = [];
    if (limit < 1) return out;
    for (let i = 3; i + 1 < r.length; i += 2) out.push({ seq: parseInt(r[i]!.toString(), 10), epoch, frame: r[i + 1]! });
    return out;
  }

  async rebase(room: string, epoch: number): Promise<number> {
    const k = this.#link.keys.room(room);
    const r = await this.#link.run("room log rebase", () => this.#link.scripts.gwRebase(k.log, k.hist, epoch, randomEpoch(), this.#ttl));
    return Number(r);
  }

  async head(room: string): Promise<{ epoch: number; seq: number }> {
    const k = this.#link.keys.room(room);
    const r = await this.#link.run("room log head", () => this.#link.scripts.gwHead(k.log, k.hist, randomEpoch(), this.#ttl));
    return { epoch: Number(r[0] ?? 0), seq: Number(r[1] ?? 0) };
  }
}
