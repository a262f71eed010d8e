/**
 * The hub's side of the cluster: per-room bus subscriptions (first local member in, last out),
 * the shared members and world state (players' poses written at most 5 times a second), node
 * heartbeats and the reaping of dead nodes. Without REDIS_URL the same code runs against the
 * in-memory backend of a single node.
 * @module
 */
import type { ClusterBackend, MemberInfo, NodeInfo, SessionRecord } from "../cluster/types.ts";
import { root } from "../protocol/proto.ts";
import { SERVER_VERSION } from "../version.ts";
import type { TimerHandle } from "./clock.ts";
import type { Connection } from "./connection.ts";
import type { Hub } from "./hub.ts";
import { announceDepartures } from "./departure.ts";
import { hostChange } from "./host.ts";
import { remoteFrame } from "./remote.ts";
import { Room } from "./room.ts";
import type { Entity, Player } from "./world.ts";

const PlayerProto = root.lookupType("graphwiz.core.PlayerSnapshot");
const EntityProto = root.lookupType("graphwiz.core.EntitySnapshot");
/** Players' poses reach the shared store at most this often (5 Hz). */
export const PLAYER_WRITE_MS = 200;

/** Options of {@link ClusterLink}. */
export interface ClusterLinkOptions {
  nodeId: string;
  /** NODE_HEARTBEAT_MS. */
  heartbeatMs: number;
  /** Whether other instances may read this one's world state (false for a lone memory node). */
  shareWorld: boolean;
}

/** Connects a hub to its cluster backend. */
export class ClusterLink {
  readonly nodeId: string;
  #timer?: TimerHandle;
  /** Players whose latest pose is not yet written: room → client ids. */
  readonly #dirty = new Map<string, Set<string>>();
  #lastWrite = 0;

  constructor(readonly hub: Hub, readonly backend: ClusterBackend, readonly opts: ClusterLinkOptions) {
    this.nodeId = opts.nodeId;
    backend.bus.onFrame((room, frame) => remoteFrame(hub, room, frame));
  }

  start(): void {
    this.#timer = this.hub.clock.setInterval(() => void this.#beat(), this.opts.heartbeatMs);
    void this.#beat();
  }

  stop(): void {
    if (this.#timer !== undefined) this.hub.clock.clearInterval(this.#timer);
  }

  /** The reason the cluster is not usable, or undefined when it is. */
  notReady(): string | undefined {
    const b = this.backend.bus.status();
    const p = this.backend.presence.status();
    return !b.healthy ? b.reason ?? "cluster bus unavailable" : !p.healthy ? p.reason ?? "presence store unavailable" : undefined;
  }

  /**
   * A room got its first local member: subscribe to its channel and, when the world is shared,
   * load what the other instances know of it. Resolves when the room is ready to join.
   */
  open(room: Room): Promise<void> | undefined {
    // A lone node has nothing to load: stay synchronous so the hello goes out at once.
    if (!this.opts.shareWorld) {
      this.#position(room, this.backend.log.head(room.id) as { epoch: number; seq: number });
      return void this.#quiet("subscribe", this.backend.bus.subscribe(room.id));
    }
    return this.#openShared(room);
  }

  /** Where the room's log stands: reliable entries after it are delivered here in order. */
  #position(room: Room, head: { epoch: number; seq: number } | undefined): void {
    if (!head) return;
    room.epoch = head.epoch;
    room.seq = head.seq;
  }

  async #openShared(room: Room): Promise<void> {
    await this.#quiet("subscribe", this.backend.bus.subscribe(room.id));
    this.#position(room, await this.#quiet("read log head", Promise.resolve(this.backend.log.head(room.id))));
    const world = await this.#quiet("read world", this.backend.presence.world(room.id));
    const now = this.hub.clock.now();
    for (const bytes of world?.players ?? []) {
      const p = PlayerProto.decode(bytes) as unknown as Player;
      if (!room.world.players.has(p.client_id)) room.world.players.set(p.client_id, { ...p, connectionId: "" });
    }
    for (const bytes of world?.entities ?? []) {
      const e = EntityProto.decode(bytes) as unknown as Entity;
      if (!room.world.entities.has(e.id)) room.world.entities.set(e.id, { ...e, components: { ...e.components } });
    }
    room.world.touch(now);
    this.#watch(room);
  }

  /** Persists this instance's changes to the room's world (players throttled to 5 Hz). */
  #watch(room: Room): void {
    if (!this.opts.shareWorld) return;
    const store = this.backend.presence;
    // Players this instance has written, with the holds written last.
    const stored = new Map<string, Player["holding"]>();
    room.world.listener = {
      player: (id, p) => {
        if (!p) return void (stored.delete(id), this.#quiet("remove player", store.removePlayer(room.id, id)));
        // compat (issue 15): a join and a change of holds (grab/release) are written at once, not
        // at the next 5 Hz flush, so an instance opening the room meanwhile sees them (and names
        // the same host); only poses and presence fields wait for the flush.
        if (!stored.has(id) || stored.get(id) !== p.holding) return void (stored.set(id, p.holding), this.#writePlayer(room.id, p));
        let set = this.#dirty.get(room.id);
        if (!set) this.#dirty.set(room.id, (set = new Set()));
        set.add(id);
      },
      entity: (id, e) => {
        if (!e) return void this.#quiet("remove entity", store.removeEntity(room.id, id));
        this.#quiet("set entity", store.setEntity(room.id, id, e.owner_id, EntityProto.encode(e as never).finish()));
      },
    };
  }

  /** Writes the players whose pose changed, at most every PLAYER_WRITE_MS (called by the sweep). */
  flush(now: number): void {
    if (this.#dirty.size === 0 || now - this.#lastWrite < PLAYER_WRITE_MS) return;
    this.#lastWrite = now;
    for (const [roomId, ids] of this.#dirty) {
      const room = this.hub.rooms.get(roomId);
      for (const id of ids) {
        const p = room?.world.players.get(id);
        if (p) this.#writePlayer(roomId, p);
      }
    }
    this.#dirty.clear();
  }

  #writePlayer(roomId: string, p: Player): void {
    const { connectionId: _, ...snap } = p;
    this.#quiet("set player", this.backend.presence.setPlayer(roomId, p.client_id, PlayerProto.encode(snap as never).finish()));
  }

  /** The last local member left: stop receiving the room. */
  close(room: Room): void {
    room.world.listener = undefined;
    this.#dirty.delete(room.id);
    void this.#quiet("unsubscribe", this.backend.bus.unsubscribe(room.id));
  }

  // A lone instance lists its members from its own rooms; only a shared store needs them.
  joined(conn: Connection): void {
    if (this.opts.shareWorld) this.#quiet("add member", this.backend.presence.addMember(this.member(conn)));
  }

  left(conn: Connection): void {
    if (this.opts.shareWorld) this.#quiet("remove member", this.backend.presence.removeMember(conn.room.id, conn.id));
  }

  /** How the cluster lists a connection. */
  member(conn: Connection): MemberInfo {
    return {
      connection_id: conn.id,
      room_id: conn.room.id,
      user_id: conn.userId,
      client_id: conn.clientId,
      display_name: conn.displayName,
      node_id: this.nodeId,
      connected_at: new Date(conn.connectedAt).toISOString(),
    };
  }

  /** Shares a session so that another instance can resume it. */
  putSession(s: SessionRecord, ttlMs: number): void {
    this.#quiet("put session", this.backend.presence.putSession(s, ttlMs));
  }

  /** Every member of the room on every instance (undefined when the store is unreachable). */
  members(roomId: string): Promise<MemberInfo[] | undefined> {
    return this.#quiet("list members", this.backend.presence.members(roomId));
  }

  /** The live instances. */
  nodes(): Promise<NodeInfo[] | undefined> {
    return this.#quiet("list nodes", this.backend.presence.nodes());
  }

  /** A session another instance shared, or undefined (also when the store is unreachable). */
  getSession(id: string): Promise<SessionRecord | undefined> {
    return this.#quiet("get session", this.backend.presence.getSession(id));
  }

  deleteSession(id: string): void {
    this.#quiet("delete session", this.backend.presence.deleteSession(id));
  }

  /** Publishes a frame to the other instances (unreliable messages; reliable ones go through the log). */
  publish(roomId: string, frame: Uint8Array): void {
    this.backend.bus.publish(roomId, frame);
  }

  async #beat(): Promise<void> {
    const { hub } = this;
    const beat = await this.#quiet("heartbeat", this.backend.presence.heartbeat({
      node_id: this.nodeId,
      connections: hub.connections.size,
      last_heartbeat: hub.clock.now(),
      runtime: hub.runtime,
      version: SERVER_VERSION,
    }));
    if (beat?.forgotten) this.#restore();
    const dead = await this.#quiet("reap dead nodes", this.backend.presence.reapDeadNodes());
    for (const node of dead ?? []) {
      hub.log.warn("node_dead", { node: node.node_id, rooms: node.rooms.length });
      for (const r of node.rooms) this.#departed(r.room, r.clients, r.entities);
    }
  }

  /** The store forgot this node (it was reaped, or Redis lost its data): put our state back. */
  #restore(): void {
    this.hub.log.warn("cluster_state_restored", { node: this.nodeId });
    for (const room of this.hub.rooms.values()) {
      for (const conn of room.members) this.joined(conn);
      for (const p of room.world.players.values()) if (p.connectionId) room.world.listener?.player(p.client_id, p);
      for (const e of room.world.entities.values()) {
        const owner = room.world.players.get(e.owner_id);
        if (owner?.connectionId) room.world.listener?.entity(e.id, e);
      }
    }
  }

  /** A dead node's clients: PRESENCE_LEAVE and despawns, to every instance through the room log. */
  #departed(roomId: string, clients: string[], entities: string[]): void {
    const local = this.hub.rooms.get(roomId);
    if (local) return announceDepartures(this.hub, local, clients, entities);
    // compat (issue 15): a room this instance does not serve — its remaining players come from
    // the store, so the leaves name the right host, which is then announced (whether it changed
    // is unknown here: the dead clients are already gone from the store).
    const room = new Room(roomId, this.hub.clock.now());
    void this.#quiet("read world", this.backend.presence.world(roomId)).then((w) => {
      for (const bytes of w?.players ?? []) {
        const p = PlayerProto.decode(bytes) as unknown as Player;
        room.world.players.set(p.client_id, { ...p, connectionId: "" });
      }
      announceDepartures(this.hub, room, clients, entities);
      const announce = hostChange(room.world, "");
      if (announce) this.hub.broadcast(room, announce, { reliable: true });
    });
  }

  /** Runs a backend call whose failure must not escape: logged (never thrown) and counted by the backend. */
  #quiet<T>(what: string, p: Promise<T>): Promise<T | undefined> {
    return p.then((v) => v, (e: Error) => {
      this.hub.log.warn("cluster_call_failed", { what, message: e.message });
      return undefined;
    });
  }
}
