/**
 * The Redis backend's member store and node registry.
 * @module
 */
import type { Clock } from "../lib/clock.ts";
import { CLUSTER_DEFAULTS, dueKey } from "./shared.ts";
import type { RedisLink } from "./redis-link.ts";
import type { DeadNode, MemberInfo, MemberStore, NodeInfo, NodeRegistry } from "./types.ts";

/** Each room's members in a hash (connection id → MemberInfo JSON). */
export class RedisMembers implements MemberStore {
  /** Members this node added, by room (the registry's `close` needs to know whether any remain). */
  readonly local = new Map<string, Set<string>>();
  constructor(readonly link: RedisLink) {}

  async add(m: MemberInfo): Promise<void> {
    const { link } = this;
    const k = link.keys.room(m.room_id);
    const ttl = link.opts.presenceTtlMs ?? CLUSTER_DEFAULTS.presenceTtlMs;
    const nodeRooms = link.keys.nodeRooms(m.node_id);
    // one batch per hash tag (a Redis Cluster runs a batch on one node)
    await Promise.all([
      link.exec("add member", link.cmd.pipeline().hset(k.members, m.connection_id, JSON.stringify(m)).pexpire(k.members, ttl)),
      link.exec("add member's room to its node", link.cmd.pipeline().sadd(nodeRooms, m.room_id).pexpire(nodeRooms, ttl)),
    ]);
    let set = this.local.get(m.room_id);
    if (!set) this.local.set(m.room_id, (set = new Set()));
    set.add(m.connection_id);
  }

  async remove(room: string, connectionId: string): Promise<void> {
    const set = this.local.get(room);
    if (set?.delete(connectionId) && set.size === 0) this.local.delete(room);
    await this.link.run("remove member", () => this.link.cmd.hdel(this.link.keys.room(room).members, connectionId));
  }

  async list(room: string): Promise<MemberInfo[]> {
    const k = this.link.keys.room(room);
    return parseAll<MemberInfo>(this.link, await this.link.run("list members", () => this.link.cmd.hvals(k.members)));
  }
}

/** Each JSON value parsed; a malformed one is counted as an error and skipped. */
function parseAll<T>(link: RedisLink, list: string[]): T[] {
  const out: T[] = [];
  for (const j of list) {
    try {
      out.push(JSON.parse(j) as T);
    } catch {
      link.counters.errors++;
    }
  }
  return out;
}

/** Node liveness in a sorted set (by last heartbeat) and a hash of NodeInfo. */
export class RedisNodes implements NodeRegistry {
  readonly #ttl: number;
  #beaten = false;

  constructor(readonly link: RedisLink, readonly clock: Clock, readonly members: RedisMembers) {
    this.#ttl = link.opts.nodeTtlMs ?? CLUSTER_DEFAULTS.nodeTtlMs;
  }

  async heartbeat(node: NodeInfo, rooms: string[]): Promise<{ forgotten: boolean }> {
    const { link } = this;
    const { keys } = link;
    const now = this.clock.now();
    const added = await link.run("heartbeat", () => link.scripts.gwHeartbeat(keys.beats, keys.info, node.node_id, now, JSON.stringify({ ...node, last_heartbeat: now })));
    const forgotten = this.#beaten && added === 1;
    this.#beaten = true;
    if (rooms.length > 0) {
      const { cmd } = link;
      const ttl = link.opts.presenceTtlMs ?? CLUSTER_DEFAULTS.presenceTtlMs;
      const mine = keys.nodeRooms(node.node_id);
      // The node's room set comes back if this node was reaped or Redis lost its data; one batch
      // per hash tag (a Redis Cluster runs a batch on one node).
      const done = [link.exec("heartbeat refresh", cmd.pipeline().sadd(mine, ...rooms).pexpire(mine, ttl))];
      for (const room of rooms) {
        const k = keys.room(room);
        const p = cmd.pipeline();
        for (const key of [k.members, k.players, k.entities, k.owners, k.holders, k.sessions]) p.pexpire(key, ttl);
        done.push(link.exec("heartbeat refresh", p));
      }
      await Promise.all(done);
    }
    return { forgotten };
  }

  async nodes(): Promise<NodeInfo[]> {
    const { keys, scripts } = this.link;
    const cutoff = this.clock.now() - this.#ttl;
    return parseAll<NodeInfo>(this.link, await this.link.run("list nodes", () => scripts.gwNodes(keys.beats, keys.info, cutoff)));
  }

  async reap(resumeWindowMs: number): Promise<DeadNode[]> {
    const { link } = this;
    const { cmd, keys, scripts } = link;
    const now = this.clock.now();
    const cutoff = now - this.#ttl;
    const ids = await link.run("find dead nodes", () => cmd.zrangebyscore(keys.beats, "-inf", `(${cutoff}`));
    const dead: DeadNode[] = [];
    for (const id of ids) {
      if (id === link.opts.nodeId) continue;
      // exactly one survivor reaps each node: the one whose SET NX succeeds
      const claimed = await link.run("claim dead node", () => cmd.set(keys.reaper(id), link.opts.nodeId, "PX", Math.max(this.#ttl, 30_000), "NX"));
      if (claimed !== "OK") continue;
      const score = await link.run("check dead node", () => cmd.zscore(keys.beats, id));
      if (score === null || Number(score) >= cutoff) {
        // already reaped by someone whose claim expired, or alive again
        await link.run("release claim", () => cmd.del(keys.reaper(id)));
        continue;
      }
      const report: DeadNode = { node_id: id, rooms: [] };
      const until = now + resumeWindowMs;
      for (const room of await link.run("list dead node rooms", () => cmd.smembers(keys.nodeRooms(id)))) {
        const k = keys.room(room);
        const [members, departed, detached] = await link.run("reap room", () => scripts.gwReapRoom(k.members, k.holders, k.sessions, id, until));
        for (let i = 0; i + 1 < detached.length; i += 2) {
          await link.run("schedule hold expiry", () => cmd.zadd(keys.due, until, dueKey(room, detached[i]!, detached[i + 1]!)));
        }
        const gone: { clientId: string; token: string }[] = [];
        for (let i = 0; i + 1 < departed.length; i += 2) gone.push({ clientId: departed[i]!, token: departed[i + 1]! });
        if (members.length > 0 || gone.length > 0) report.rooms.push({ room, members: parseAll<MemberInfo>(link, members), departed: gone });
      }
      await link.exec("forget dead node", cmd.multi().zrem(keys.beats, id).hdel(keys.info, id));
      await link.run("forget dead node rooms", () => cmd.del(keys.nodeRooms(id)));
      dead.push(report);
    }
    return dead;
  }

  /**
   * Leaves the registry at once when this node holds no members any more (a graceful
   * shutdown); otherwise its entry stays so a survivor reaps what it left.
   */
  async close(): Promise<void> {
    const { link } = this;
    if (this.members.local.size > 0 || !this.#beaten || !link.writable) return;
    try {
      await link.exec("leave registry", link.cmd.multi().zrem(link.keys.beats, link.opts.nodeId).hdel(link.keys.info, link.opts.nodeId));
    } catch {
      // counted; the entry then ages out and is reaped (finding nothing)
    }
  }
}
