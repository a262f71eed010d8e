/**
 * Rooms shared with other instances through a cluster backend: a room that opens here is
 * subscribed on the bus and loaded from the world store (atomically with its log position);
 * poses are written at most 5 times a second; members are listed cluster-wide; heartbeats keep
 * this instance alive and dead instances are reaped. Liveness counts only time in which the
 * backend was reachable: this instance reaps others only after its own heartbeats have
 * succeeded for a whole NODE_TTL_MS, so an outage (or a failover) never makes instances judge
 * each other dead from heartbeats nobody could write.
 * @module
 */
import type { ClusterBackend, DeadNode, MemberInfo, NodeInfo, RoomChange } from "../cluster/types.ts";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { Logger } from "../log.ts";
import { root } from "../protocol/proto.ts";
import type { PlayerSnapshot } from "../protocol/types.ts";
import { SERVER_VERSION } from "../version.ts";
import type { Connection } from "./connection.ts";
import type { Replication } from "./replication.ts";
import type { Room } from "./room.ts";
import { entitySnapshot, playerSnapshot, type Entity, type Player } from "./world.ts";

const PlayerProto = root.lookupType("graphwiz.core.PlayerSnapshot");
const EntityProto = root.lookupType("graphwiz.core.EntitySnapshot");
/** Poses reach the shared store at most this often (5 Hz). */
export const POSE_WRITE_MS = 200;

/** What {@link SharedReplication} needs besides the backend. */
export interface SharedOptions {
  backend: ClusterBackend;
  clock: Clock;
  logger: Logger;
  runtime: string;
  /** NODE_HEARTBEAT_MS, NODE_TTL_MS, RESUME_WINDOW_MS. */
  heartbeatMs: number;
  nodeTtlMs: number;
  resumeWindowMs: number;
  /** The rooms open here. */
  rooms(): Iterable<Room>;
  /** Local connection count (for the heartbeat). */
  connections(): number;
  /** A dead instance's plain clients: depart each (a guarded release). */
  departed(roomId: string, clientId: string, token: string): void;
  /** The room log's head as read by a heartbeat (entries lost on the bus are fetched; InOrder.catchUp). */
  head(room: Room, head: { epoch: number; seq: number }): void;
}

/** A member-list change not yet stored (retried after each successful heartbeat). */
type MemberOp = { room: string; info?: MemberInfo };

const encodePlayer = (p: Player) => PlayerProto.encode(playerSnapshot(p) as never).finish();
const encodeEntity = (e: Entity) => EntityProto.encode(entitySnapshot(e) as never).finish();

/** Rooms shared through a cluster backend. */
export class SharedReplication implements Replication {
  readonly shared = true;
  readonly nodeId: string;
  readonly #dirty = new Map<Room, Map<string, "player" | "entity">>();
  #lastWrite = 0;
  #timer?: TimerHandle;
  /** Since when every heartbeat has succeeded (undefined after a failure). */
  #healthySince?: number;
  /** The store is reachable and holds this instance's state (see {@link synced}). */
  #synced = true;
  #beating?: Promise<void>;
  /** The latest member-list change per connection whose store call has not succeeded yet. */
  readonly #memberOps = new Map<string, MemberOp>();

  constructor(readonly opts: SharedOptions) {
    this.nodeId = opts.backend.nodeId;
    opts.backend.onStatus((s) => {
      if (!s.healthy) this.#synced = false;
      else void this.beat(); // at once: the first heartbeat after an outage finds out what the store lost
    });
  }

  synced(): boolean {
    return this.#synced;
  }

  async open(room: Room): Promise<void> {
    const { backend } = this.opts;
    await backend.bus.subscribe(room.id);
    const snap = await backend.world.load(room.id);
    const now = this.opts.clock.now();
    const w = room.world;
    for (const bytes of snap.players) {
      const p = PlayerProto.decode(bytes) as unknown as Player;
      const h = snap.holders.get(p.client_id);
      if (!w.players.has(p.client_id)) w.join({ ...p, token: h?.token ?? "" }, now);
    }
    for (const bytes of snap.entities) {
      // Decoded defaults live on the prototype: name every field (a spread would lose them).
      const e = EntityProto.decode(bytes) as unknown as Entity;
      if (!w.entities.has(e.id)) {
        w.spawn({ id: e.id, template_id: e.template_id ?? "", owner_id: e.owner_id ?? "", components: { ...e.components }, position: e.position ?? undefined, rotation: e.rotation ?? undefined }, now);
      }
    }
    room.epoch = snap.epoch;
    room.seq = snap.seq;
    room.loadedAt = { epoch: snap.epoch, seq: snap.seq };
  }

  close(room: Room): void {
    this.#dirty.delete(room);
    this.#quiet("unsubscribe", this.opts.backend.bus.unsubscribe(room.id));
  }

  joined(conn: Connection): void {
    this.#member(conn.id, { room: conn.room.id, info: this.member(conn) });
  }

  left(conn: Connection): void {
    this.#member(conn.id, { room: conn.room.id });
  }

  /**
   * Stores a member-list change; one the store did not take (an outage) is kept and retried
   * after each successful heartbeat, unless a newer change of that connection replaced it —
   * else a client that left during an outage stays listed for good.
   */
  #member(connId: string, op: MemberOp): void {
    const { members } = this.opts.backend;
    this.#memberOps.set(connId, op);
    const call = op.info ? members.add(op.info) : members.remove(op.room, connId);
    call.then(
      () => this.#memberOps.get(connId) === op && this.#memberOps.delete(connId),
      (e: Error) => this.opts.logger.warn("cluster_call_failed", { what: op.info ? "add member" : "remove member", message: e.message }),
    );
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
      token: conn.token,
    };
  }

  publish(roomId: string, frame: Uint8Array): void {
    this.opts.backend.bus.publish(roomId, frame);
  }

  players(players: Player[]): RoomChange["players"] {
    return players.map((p) => [p.client_id, encodePlayer(p)]);
  }

  entities(entities: Entity[]): RoomChange["entities"] {
    return entities.map((e) => [e.id, e.owner_id, encodeEntity(e)]);
  }

  presence(kind: "join" | "leave"): RoomChange["presence"] {
    return kind;
  }

  pose(room: Room, kind: "player" | "entity", id: string): void {
    let set = this.#dirty.get(room);
    if (!set) this.#dirty.set(room, (set = new Map()));
    set.set(id, kind);
  }

  flush(now: number): void {
    if (this.#dirty.size === 0 || now - this.#lastWrite < POSE_WRITE_MS) return;
    this.#lastWrite = now;
    const { world } = this.opts.backend;
    for (const [room, ids] of this.#dirty) {
      for (const [id, kind] of ids) {
        const p = kind === "player" ? room.world.players.get(id) : undefined;
        const e = kind === "entity" ? room.world.entities.get(id) : undefined;
        const bytes = p ? encodePlayer(p) : e ? encodeEntity(e) : undefined;
        if (bytes) this.#quiet("write pose", world.setPose(room.id, kind, id, bytes));
      }
    }
    this.#dirty.clear();
  }

  async remoteMembers(roomId: string): Promise<MemberInfo[]> {
    const all = (await this.#quiet("list members", this.opts.backend.members.list(roomId))) ?? [];
    return all.filter((m) => m.node_id !== this.nodeId);
  }

  async storedPlayers(roomId: string): Promise<PlayerSnapshot[]> {
    const snap = await this.opts.backend.world.load(roomId);
    return snap.players.map((b) => PlayerProto.decode(b) as unknown as PlayerSnapshot);
  }

  nodes(): Promise<NodeInfo[] | undefined> {
    return this.#quiet("list nodes", this.opts.backend.nodes.nodes());
  }

  notReady(): string | undefined {
    const s = this.opts.backend.status();
    return s.healthy ? undefined : s.reason ?? "Cluster backend unavailable";
  }

  start(): void {
    this.#timer = this.opts.clock.setInterval(() => void this.beat(), this.opts.heartbeatMs);
    void this.beat();
  }

  stop(): void {
    if (this.#timer !== undefined) this.opts.clock.clearInterval(this.#timer);
  }

  /** One heartbeat (never two at once), then — if this instance has been reachable for a whole TTL — reaping. */
  beat(): Promise<void> {
    return (this.#beating ??= this.#beat().finally(() => (this.#beating = undefined)));
  }

  async #beat(): Promise<void> {
    const { backend, clock } = this.opts;
    const rooms = [...this.opts.rooms()].map((r) => r.id);
    const node = { node_id: this.nodeId, connections: this.opts.connections(), last_heartbeat: clock.now(), runtime: this.opts.runtime, version: SERVER_VERSION };
    const beat = await this.#quiet("heartbeat", backend.nodes.heartbeat(node, rooms));
    const now = clock.now();
    if (!beat) return void (this.#healthySince = undefined);
    this.#healthySince ??= now;
    if (beat.forgotten) await this.#restore();
    this.#synced = backend.status().healthy;
    for (const [connId, op] of [...this.#memberOps]) this.#member(connId, op);
    await this.#heads();
    if (now - this.#healthySince < this.opts.nodeTtlMs) return;
    const dead = await this.#quiet("reap dead nodes", backend.nodes.reap(this.opts.resumeWindowMs));
    for (const node of dead ?? []) this.#reaped(node);
  }

  /** Reads the log head of every room open here (see {@link SharedOptions.head}). */
  async #heads(): Promise<void> {
    const log = this.opts.backend.log;
    await Promise.all([...this.opts.rooms()].filter((r) => !r.opening && !r.ephemeral).map(async (room) => {
      const head = await this.#quiet("read log head", Promise.resolve().then(() => log.head(room.id)));
      if (head) this.opts.head(room, head);
    }));
  }

  #reaped(node: DeadNode): void {
    this.opts.logger.warn("node_dead", { node: node.node_id, rooms: node.rooms.length });
    for (const r of node.rooms) for (const d of r.departed) this.opts.departed(r.room, d.clientId, d.token);
  }

  /**
   * The store forgot this instance (it was reaped, or Redis lost its data): put back its holds
   * (attached and detached), members and the world state its clients own — before any append.
   */
  async #restore(): Promise<void> {
    this.opts.logger.warn("cluster_state_restored", { node: this.nodeId });
    const { backend } = this.opts;
    const done: Promise<unknown>[] = [];
    const call = (what: string, f: () => unknown) => done.push(this.#quiet(what, Promise.resolve().then(f)));
    for (const room of this.opts.rooms()) {
      const players: Player[] = [];
      const entities: Entity[] = [];
      const keep = (clientId: string) => {
        const p = room.world.players.get(clientId);
        if (p) players.push(p);
        for (const id of room.world.ownedBy(clientId)) entities.push(room.world.entities.get(id)!);
      };
      for (const conn of room.members) {
        call("restore hold", () => backend.claims.claim(room.id, conn.clientId, { user: conn.userId, token: conn.token, node: this.nodeId, conn: conn.id }, conn.session));
        this.joined(conn);
        keep(conn.clientId);
      }
      for (const [clientId, g] of room.ghosts) {
        const user = room.world.players.get(clientId)?.user_id ?? null;
        call("restore detached hold", async () => {
          await backend.claims.claim(room.id, clientId, { user, token: g.token, node: this.nodeId, conn: g.conn }, g.token);
          await backend.claims.detach(room.id, clientId, g.token, g.conn, g.until);
        });
        keep(clientId);
      }
      call("restore state", () => backend.log.append(room.id, [], { players: this.players(players), entities: this.entities(entities) }));
    }
    await Promise.all(done);
  }

  /** Runs a backend call whose failure must not escape: logged (never thrown). */
  #quiet<T>(what: string, p: Promise<T>): Promise<T | undefined> {
    return p.then((v) => v, (e: Error) => {
      this.opts.logger.warn("cluster_call_failed", { what, message: e.message });
      return undefined;
    });
  }
}
