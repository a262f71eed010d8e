/**
 * The Redis backend's presence store: members, world state, node liveness and sessions.
 * @module
 */
import type { Clock } from "../core/clock.ts";
import { CLUSTER_DEFAULTS, decodeSession, encodeSession, validSessionId } from "./shared.ts";
import { asBuffer } from "./redis-keys.ts";
import type { RedisLink } from "./redis-link.ts";
import type { BackendStatus, DeadNode, MemberInfo, NodeInfo, PresenceStore, SessionRecord } from "./types.ts";

/** Members, world state and node liveness in Redis hashes. */
export class RedisPresence implements PresenceStore {
  readonly #link: RedisLink;
  readonly #clock: Clock;
  readonly #nodeTtl: number;
  readonly #presenceTtl: number;
  readonly nodeId: string;
  /** Rooms where this node added members, with their connection ids (for TTL refresh and the node's room set). */
  readonly #local = new Map<string, Set<string>>();
  #beaten = false;

  constructor(link: RedisLink, clock: Clock) {
    this.#link = link;
    this.#clock = clock;
    this.nodeId = link.opts.nodeId;
    this.#nodeTtl = link.opts.nodeTtlMs ?? CLUSTER_DEFAULTS.nodeTtlMs;
    this.#presenceTtl = link.opts.presenceTtlMs ?? CLUSTER_DEFAULTS.presenceTtlMs;
  }

  async addMember(m: MemberInfo): Promise<void> {
    const { cmd, keys } = this.#link;
    const k = keys.room(m.room_id);
    const mine = m.node_id === this.nodeId;
    const nodeRooms = keys.nodeRooms(m.node_id);
    const ttl = this.#presenceTtl;
    // one batch per hash tag (a Redis Cluster runs a batch on one node)
    await Promise.all([
      this.#link.exec("add member", cmd.pipeline().hset(k.members, m.connection_id, JSON.stringify(m)).pexpire(k.members, ttl)),
      this.#link.exec("add member's room to its node", cmd.pipeline().sadd(nodeRooms, m.room_id).pexpire(nodeRooms, ttl)),
    ]);
    if (mine) {
      let set = this.#local.get(m.room_id);
      if (!set) this.#local.set(m.room_id, (set = new Set()));
      set.add(m.connection_id);
    }
  }

  async removeMember(room: string, connectionId: string): Promise<void> {
    const { cmd, keys } = this.#link;
    const set = this.#local.get(room);
    const last = !!set && set.delete(connectionId) && set.size === 0;
    if (last) this.#local.delete(room);
    const done = [this.#link.run("remove member", () => cmd.hdel(keys.room(room).members, connectionId))];
    if (last) done.push(this.#link.run("remove room from node", () => cmd.srem(keys.nodeRooms(this.nodeId), room)));
    await Promise.all(done);
  }

  async members(room: string): Promise<MemberInfo[]> {
    const k = this.#link.keys.room(room);
    return this.#parse<MemberInfo>(await this.#link.run("list members", () => this.#link.cmd.hvals(k.members)));
  }

  /** Each JSON value parsed; a malformed one is counted as an error and skipped. */
  #parse<T>(list: string[]): T[] {
    const out: T[] = [];
    for (const j of list) {
      try {
        out.push(JSON.parse(j) as T);
      } catch {
        this.#link.counters.errors++;
      }
    }
    return out;
  }

  async totalConnections(): Promise<number> {
    let sum = 0;
    for (const n of await this.nodes()) sum += n.connections || 0;
    return sum;
  }

  async setPlayer(room: string, clientId: string, snapshot: Uint8Array): Promise<void> {
    const k = this.#link.keys.room(room);
    await this.#link.run("set player", () => this.#link.cmd.hset(k.players, clientId, asBuffer(snapshot)));
  }
  async removePlayer(room: string, clientId: string): Promise<void> {
    const k = this.#link.keys.room(room);
    await this.#link.run("remove player", () => this.#link.cmd.hdel(k.players, clientId));
  }
  async setEntity(room: string, entityId: string, ownerClientId: string, snapshot: Uint8Array): Promise<void> {
    const k = this.#link.keys.room(room);
    await this.#link.exec("set entity", this.#link.cmd.multi().hset(k.entities, entityId, asBuffer(snapshot)).hset(k.owners, entityId, ownerClientId));
  }
  async removeEntity(room: string, entityId: string): Promise<void> {
    const k = this.#link.keys.room(room);
    await this.#link.exec("remove entity", this.#link.cmd.multi().hdel(k.entities, entityId).hdel(k.owners, entityId));
  }
  async world(room: string): Promise<{ players: Uint8Array[]; entities: Uint8Array[] }> {
    const k = this.#link.keys.room(room);
    const [players, entities] = (await this.#link.exec("read world", this.#link.cmd.pipeline().hvalsBuffer(k.players).hvalsBuffer(k.entities))) as [Buffer[], Buffer[]];
    return { players, entities };
  }

  async heartbeat(node: NodeInfo): Promise<{ forgotten: boolean }> {
    const { keys, scripts } = this.#link;
    const now = this.#clock.now();
    const json = JSON.stringify({ ...node, last_heartbeat: now });
    const added = await this.#link.run("heartbeat", () => scripts.gwHeartbeat(keys.beats, keys.info, node.node_id, now, json));
    const forgotten = this.#beaten && added === 1;
    this.#beaten = true;
    if (this.#local.size > 0) {
      const { cmd } = this.#link;
      const ttl = this.#presenceTtl;
      const mine = keys.nodeRooms(this.nodeId);
      // re-add the rooms (the set is gone if this node was reaped or Redis lost its data);
      // one batch per hash tag (a Redis Cluster runs a batch on one node)
      const done = [this.#link.exec("heartbeat refresh", cmd.pipeline().sadd(mine, ...this.#local.keys()).pexpire(mine, ttl))];
      for (const room of this.#local.keys()) {
        const k = keys.room(room);
        done.push(this.#link.exec("heartbeat refresh", cmd.pipeline().pexpire(k.members, ttl).pexpire(k.players, ttl).pexpire(k.entities, ttl).pexpire(k.owners, ttl)));
      }
      await Promise.all(done);
    }
    return { forgotten };
  }

  async nodes(): Promise<NodeInfo[]> {
    const { keys, scripts } = this.#link;
    const cutoff = this.#clock.now() - this.#nodeTtl;
    return this.#parse<NodeInfo>(await this.#link.run("list nodes", () => scripts.gwNodes(keys.beats, keys.info, cutoff)));
  }

  async reapDeadNodes(): Promise<DeadNode[]> {
    const link = this.#link;
    const { cmd, keys, scripts } = link;
    const cutoff = this.#clock.now() - this.#nodeTtl;
    const ids = await link.run("find dead nodes", () => cmd.zrangebyscore(keys.beats, "-inf", `(${cutoff}`));
    const dead: DeadNode[] = [];
    for (const id of ids) {
      if (id === this.nodeId) continue;
      // exactly one survivor reaps each node: the one whose SET NX succeeds
      const claimed = await link.run("claim dead node", () => cmd.set(keys.reaper(id), this.nodeId, "PX", Math.max(this.#nodeTtl, 30_000), "NX"));
      if (claimed !== "OK") continue;
      const score = await link.run("check dead node", () => cmd.zscore(keys.beats, id));
      if (score === null || Number(score) >= cutoff) {
        // already reaped by someone whose claim expired, or alive again
        await link.run("release claim", () => cmd.del(keys.reaper(id)));
        continue;
      }
      const report: DeadNode = { node_id: id, rooms: [] };
      const rooms = await link.run("list dead node rooms", () => cmd.smembers(keys.nodeRooms(id)));
      for (const room of rooms) {
        const k = keys.room(room);
        const [members, clients, entities] = await link.run("reap room", () => scripts.gwReapRoom(k.members, k.players, k.entities, k.owners, id));
        if (members.length === 0) continue;
        report.rooms.push({ room, members: this.#parse<MemberInfo>(members), clients, entities });
      }
      await link.exec("forget dead node", cmd.multi().zrem(keys.beats, id).hdel(keys.info, id));
      await link.run("forget dead node rooms", () => cmd.del(keys.nodeRooms(id)));
      dead.push(report);
    }
    return dead;
  }

  async putSession(s: SessionRecord, ttlMs: number): Promise<void> {
    const { json, ttl } = encodeSession(s, ttlMs);
    const key = this.#link.keys.session(s.id);
    await this.#link.run("put session", () => this.#link.cmd.set(key, json, "PX", ttl));
  }
  async getSession(id: string): Promise<SessionRecord | undefined> {
    if (!validSessionId(id)) return undefined;
    const json = await this.#link.run("get session", () => this.#link.cmd.get(this.#link.keys.session(id)));
    if (json === null) return undefined;
    const r = decodeSession(json);
    if (!r) this.#link.counters.errors++;
    return r;
  }
  async deleteSession(id: string): Promise<void> {
    if (!validSessionId(id)) return;
    await this.#link.run("delete session", () => this.#link.cmd.del(this.#link.keys.session(id)));
  }

  status(): BackendStatus {
    return this.#link.status.get();
  }
  onStatus(cb: (s: BackendStatus) => void): void {
    this.#link.status.on(cb);
  }
  /**
   * Leaves the node registry at once when this node holds no members any more (a graceful
   * shutdown); otherwise its entry stays so a survivor reaps what it left.
   */
  async close(): Promise<void> {
    if (this.#local.size > 0 || !this.#beaten || !this.#link.writable) return;
    const { cmd, keys } = this.#link;
    try {
      await this.#link.exec("leave registry", cmd.multi().zrem(keys.beats, this.nodeId).hdel(keys.info, this.nodeId));
    } catch {
      // counted; the entry then ages out and is reaped (finding nothing)
    }
  }
}
