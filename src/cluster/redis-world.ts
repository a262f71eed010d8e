/**
 * The Redis backend's world store and client claims (room hashes; see the layout in `redis.ts`).
 * @module
 */
import { systemClock, type Clock } from "../lib/clock.ts";
import { randomEpoch } from "../lib/ids.ts";
import { CLUSTER_DEFAULTS, decodeHolder, dueKey, encodeHolder, parseDueKey } from "./shared.ts";
import { asBuffer } from "./redis-keys.ts";
import type { RedisLink } from "./redis-link.ts";
import type { Claim, ClientClaims, DueHold, Holder, RoomSnapshot, WorldStore } from "./types.ts";

/** Rooms' shared world in Redis hashes. */
export class RedisWorld implements WorldStore {
  constructor(readonly link: RedisLink) {}

  async load(room: string): Promise<RoomSnapshot> {
    const { link } = this;
    const k = link.keys.room(room);
    const ttl = link.opts.historyTtlMs ?? CLUSTER_DEFAULTS.historyTtlMs;
    const [head, players, entities, holds] = await link.run("load room", () => link.scripts.gwLoadBuffer(k.log, k.hist, k.players, k.entities, k.holders, randomEpoch(), ttl));
    const holders = new Map<string, Holder>();
    for (let i = 0; i + 1 < holds.length; i += 2) {
      const h = decodeHolder(holds[i + 1]!.toString());
      if (h) holders.set(holds[i]!.toString(), h);
      else link.counters.errors++;
    }
    return { epoch: Number(head[0]?.toString() ?? 0), seq: Number(head[1]?.toString() ?? 0), players, entities, holders };
  }

  async setPose(room: string, kind: "player" | "entity", id: string, snapshot: Uint8Array): Promise<void> {
    const k = this.link.keys.room(room);
    await this.link.run("set pose", () => this.link.scripts.gwSetIfExists(kind === "player" ? k.players : k.entities, id, asBuffer(snapshot)));
  }
}

/** Client claims in each room's `holders` and `sessions` hashes, due holds in one sorted set. */
export class RedisClaims implements ClientClaims {
  readonly #clock: Clock;
  constructor(readonly link: RedisLink) {
    this.#clock = link.opts.clock ?? systemClock;
  }

  async claim(room: string, clientId: string, holder: Holder, sessionId?: string): Promise<Claim> {
    const { link } = this;
    const k = link.keys.room(room);
    const ttl = link.opts.presenceTtlMs ?? CLUSTER_DEFAULTS.presenceTtlMs;
    const next: Holder = { user: holder.user, token: holder.token, node: holder.node, conn: holder.conn };
    const r = await link.run("claim client id", () => link.scripts.gwClaim(k.holders, k.sessions, k.owners, clientId, encodeHolder(next), holder.token, holder.user ?? "", sessionId ?? "", ttl, holder.conn ?? ""));
    // The node's room set (its own hash tag) tells a survivor where to look if this node dies.
    const mine = link.keys.nodeRooms(holder.node);
    void link.exec("add room to node", link.cmd.pipeline().sadd(mine, room).pexpire(mine, ttl)).catch(() => {});
    const other = r[1] === undefined ? undefined : decodeHolder(r[1]);
    if (r[0] === "no") return { ok: false, holder: other ?? { user: null, token: "", node: "" } };
    return other ? { ok: true, previous: other } : { ok: true };
  }

  async sessionClient(room: string, sessionId: string): Promise<string | undefined> {
    const { link } = this;
    const k = link.keys.room(room);
    const clientId = await link.run("find session", () => link.cmd.hget(k.sessions, sessionId));
    if (clientId === null) return undefined;
    const h = await link.run("find session holder", () => link.cmd.hget(k.holders, clientId));
    return h !== null && decodeHolder(h)?.token === sessionId ? clientId : undefined;
  }

  async detach(room: string, clientId: string, token: string, conn: string, until: number): Promise<void> {
    const { link } = this;
    const entry = dueKey(room, clientId, token);
    // The due entry first: if the detach then fails, the entry finds the hold attached and is dropped (see due).
    await link.run("schedule hold expiry", () => link.cmd.zadd(link.keys.due, until, entry));
    const r = await link.run("detach hold", () => link.scripts.gwDetach(link.keys.room(room).holders, clientId, token, conn, until));
    // Already detached (a late detach from a stale connection): the entry keeps the hold's own window.
    if (r[0] === "detached") await link.run("schedule hold expiry", () => link.cmd.zadd(link.keys.due, r[1]!, entry));
  }

  /**
   * The entries of the due set are written before (and apart from) the holds they stand for, so
   * each is checked against its hold: one whose hold was resumed, replaced, released or never
   * detached is dropped; one whose hold's window was moved on is rescheduled. The memory
   * store needs no check (it changes both at once).
   */
  async due(now: number, limit: number): Promise<DueHold[]> {
    const { link } = this;
    const found = await link.run("due holds", () => link.cmd.zrangebyscore(link.keys.due, "-inf", now, "WITHSCORES", "LIMIT", 0, limit));
    const out: DueHold[] = [];
    for (let i = 0; i + 1 < found.length; i += 2) {
      const [entry, score] = [found[i]!, found[i + 1]!];
      const d = parseDueKey(entry);
      const json = d && (await link.run("due hold's holder", () => link.cmd.hget(link.keys.room(d.room).holders, d.clientId)));
      const h = json ? decodeHolder(json) : undefined;
      const until = h?.token === d?.token ? h?.detachedUntil : undefined;
      if (d && until !== undefined && until <= now) out.push(d);
      else await link.run("fix due hold", () => link.scripts.gwDueFix(link.keys.due, entry, score, until ?? ""));
    }
    return out;
  }

  async done(hold: DueHold): Promise<void> {
    const { link } = this;
    const entry = dueKey(hold.room, hold.clientId, hold.token);
    const score = await link.run("find due hold", () => link.cmd.zscore(link.keys.due, entry));
    // a hold detached again meanwhile has a later score (its new window): it stays due
    if (score !== null && Number(score) <= this.#clock.now()) await link.run("drop due hold", () => link.scripts.gwDueFix(link.keys.due, entry, score, ""));
  }
}
