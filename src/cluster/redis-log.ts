/**
 * The Redis backend's room log: one Lua script per append (seq, history and publish at once).
 * @module
 */
import { CLUSTER_DEFAULTS, randomEpoch, sequenced } from "./shared.ts";
import { asBuffer } from "./redis-keys.ts";
import type { RedisLink } from "./redis-link.ts";
import type { LogEntry, RoomLog } from "./types.ts";

/** The room log: one Lua script per append. */
export class RedisRoomLog implements RoomLog {
  readonly #link: RedisLink;
  readonly #size: number;
  readonly #ttl: number;

  constructor(link: RedisLink) {
    this.#link = link;
    this.#size = Math.max(1, link.opts.historySize ?? CLUSTER_DEFAULTS.historySize);
    this.#ttl = link.opts.historyTtlMs ?? CLUSTER_DEFAULTS.historyTtlMs;
  }

  /** Rejects at once with {@link ClusterUnavailableError} while Redis is away (deliver locally instead). */
  append(room: string, frame: Uint8Array): Promise<LogEntry> {
    const link = this.#link;
    if (!link.writable) return Promise.reject(link.unavailable());
    const k = link.keys.room(room);
    link.counters.published++;
    link.beforeCommand();
    return link.scripts.gwAppend(k.log, k.hist, k.channel, link.header, asBuffer(frame), randomEpoch(), this.#size, this.#ttl, link.publishCommand).then(
      (r) => {
        const seq = Number(r[0]);
        const epoch = Number(r[1]);
        return { seq, epoch, frame: sequenced(frame, seq, epoch) };
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

  async head(room: string): Promise<{ epoch: number; seq: number }> {
    const k = this.#link.keys.room(room);
    const r = await this.#link.run("room log head", () => this.#link.scripts.gwHead(k.log, k.hist, randomEpoch(), this.#ttl));
    return { epoch: Number(r[0] ?? 0), seq: Number(r[1] ?? 0) };
  }
}
