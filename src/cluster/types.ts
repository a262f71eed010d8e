/**
 * The cluster seam: what the hub needs so that a room can span instances. Each interface has
 * an in-memory implementation (one process; the default without REDIS_URL) and a Redis one;
 * one contract suite runs against both.
 *
 * Bytes, not objects, cross these interfaces: the hub encodes a frame once and every instance
 * decodes it once. A frame published on the bus is `header ‖ message` where `message` is an
 * encoded `graphwiz.core.Message` placed LAST, so the room log can append the `seq` (field 4)
 * and `epoch` (field 5) varints to it without re-encoding: in protobuf the last value of a
 * scalar field wins.
 * @module
 */
import type { RoomControlStore } from "./control.ts";

/** Called for every frame another instance published to a room this instance subscribes to. */
export type BusHandler = (room: string, frame: Uint8Array, fromNode: string) => void;

/** Connection state of a bus or store backend. */
export interface BackendStatus {
  healthy: boolean;
  /** Why not healthy (sentence case), when not. */
  reason?: string;
}

/**
 * Per-room publish/subscribe between instances. An instance subscribes to a room when its
 * first local member joins and unsubscribes when the last leaves; it never receives its own
 * publications (the node id travels with each frame). Frames from one publisher arrive in the
 * order published.
 */
export interface ClusterBus {
  readonly nodeId: string;
  /** Starts receiving the room's frames (idempotent). */
  subscribe(room: string): Promise<void>;
  /** Stops receiving them (idempotent). */
  unsubscribe(room: string): Promise<void>;
  /**
   * Publishes to every other subscribed instance. Never throws; a frame that cannot be sent
   * (backend unavailable) is dropped and counted, never queued. The bus may keep a reference
   * to `frame`: do not mutate it afterwards.
   */
  publish(room: string, frame: Uint8Array): void;
  /** Sets the single receiver of remote frames. */
  onFrame(handler: BusHandler): void;
  status(): BackendStatus;
  /** Called on every health change (e.g. Redis lost / back). */
  onStatus(cb: (s: BackendStatus) => void): void;
  /**
   * Counters for /metrics: frames published and received, frames `dropped` because the backend
   * was unavailable, backend `errors` (connection errors, failed commands, receiver exceptions)
   * and `reconnects` (times the backend turned healthy again after being lost).
   */
  readonly counters: { published: number; received: number; dropped: number; errors: number; reconnects: number };
  close(): Promise<void>;
}

/** A reliable message after the room log sequenced it. */
export interface LogEntry {
  seq: number;
  epoch: number;
  /** `header ‖ message ‖ seq/epoch varints`, exactly as published. */
  frame: Uint8Array;
}

/**
 * The cluster-wide, ordered log of a room's reliable messages: assigns each one the room's next
 * sequence number, keeps a bounded history (for retries and resume, possibly on another
 * instance) and publishes it on the bus, in one atomic step.
 */
export interface RoomLog {
  /**
   * Appends `frame` (`header ‖ message`), publishing `frame ‖ seq ‖ epoch` to the other
   * instances. Resolves with the assigned position. Entries of one room get strictly
   * increasing `seq` within an `epoch`; appends issued in order resolve in order. The memory
   * log answers synchronously (no promise), so single-instance delivery stays synchronous.
   */
  append(room: string, frame: Uint8Array): LogEntry | Promise<LogEntry>;
  /** Entries with `seq > afterSeq` of `epoch`, oldest first (at most `limit`); `null` if that history is gone. */
  read(room: string, epoch: number, afterSeq: number, limit: number): LogEntry[] | null | Promise<LogEntry[] | null>;
  /** The room's current epoch and last seq (0 when nothing was appended yet). */
  head(room: string): { epoch: number; seq: number } | Promise<{ epoch: number; seq: number }>;
}

/** One connection as the cluster lists it. */
export interface MemberInfo {
  connection_id: string;
  room_id: string;
  user_id: string | null;
  client_id: string;
  display_name?: string;
  node_id: string;
  connected_at: string;
}

/** One live instance. */
export interface NodeInfo {
  node_id: string;
  connections: number;
  /** Last heartbeat, ms since the epoch. */
  last_heartbeat: number;
  runtime?: string;
  version?: string;
}

/** What a dead node left behind, for the survivors to clean up. */
export interface DeadNode {
  node_id: string;
  /**
   * What was removed from the store, by room (already gone when this is reported):
   * its `members`; the `clients` left with no member in the room on any node (their player
   * entries were removed: broadcast PRESENCE_LEAVE for these); and the `entities` those
   * clients owned (removed: broadcast ENTITY_DESPAWN).
   */
  rooms: { room: string; members: MemberInfo[]; clients: string[]; entities: string[] }[];
}

/** A resumable session as the cluster keeps it (see src/delivery/sessions.ts). */
export interface SessionRecord {
  id: string;
  room_id: string;
  user_id: string | null;
  client_id: string;
  /** The node whose connection holds it now (or held it last). */
  node_id: string;
  /** The connection holding it; absent while detached (waiting for a resume). */
  connection_id?: string;
}

/**
 * Cluster-wide connection and world state: members, players' latest poses, entities, and
 * node liveness. Player writes are throttled by the caller (≤ 5 Hz per player).
 */
export interface PresenceStore {
  addMember(m: MemberInfo): Promise<void>;
  removeMember(room: string, connectionId: string): Promise<void>;
  /** Every member of the room on every instance. */
  members(room: string): Promise<MemberInfo[]>;
  /** Total connections over all live nodes. */
  totalConnections(): Promise<number>;

  /** Player snapshot (encoded `PlayerSnapshot`), keyed by client id. */
  setPlayer(room: string, clientId: string, snapshot: Uint8Array): Promise<void>;
  removePlayer(room: string, clientId: string): Promise<void>;
  /** Entity snapshot (encoded `EntitySnapshot`) with its owner's client id. */
  setEntity(room: string, entityId: string, ownerClientId: string, snapshot: Uint8Array): Promise<void>;
  removeEntity(room: string, entityId: string): Promise<void>;
  /** The room's players and entities (encoded snapshots). */
  world(room: string): Promise<{ players: Uint8Array[]; entities: Uint8Array[] }>;

  /**
   * Records this node alive with its counts (TTL = NODE_TTL_MS). The store stamps
   * `last_heartbeat` with its own clock (the value passed in is ignored). Resolves
   * `forgotten: true` when the store lost this node since its previous heartbeat (it was reaped
   * after missing heartbeats, or Redis lost its data): the caller then re-adds its members and
   * world state.
   */
  heartbeat(node: NodeInfo): Promise<{ forgotten: boolean }>;
  /** The live nodes (last heartbeat within the TTL). */
  nodes(): Promise<NodeInfo[]>;
  /**
   * Finds nodes whose heartbeat is older than the TTL, removes their members, players and
   * owned entities from every room, and reports them (each dead node to exactly one caller
   * cluster-wide, so one survivor broadcasts the leaves). Never reaps the calling node.
   */
  reapDeadNodes(): Promise<DeadNode[]>;

  /** Stores (or replaces) a session record for `ttlMs`, so another node can resume it. */
  putSession(s: SessionRecord, ttlMs: number): Promise<void>;
  /** The record, or undefined when unknown or expired. */
  getSession(id: string): Promise<SessionRecord | undefined>;
  deleteSession(id: string): Promise<void>;

  status(): BackendStatus;
  onStatus(cb: (s: BackendStatus) => void): void;
  close(): Promise<void>;
}

/** The backends together, as built from configuration. */
export interface ClusterBackend {
  kind: "memory" | "redis";
  bus: ClusterBus;
  log: RoomLog;
  presence: PresenceStore;
  /** Room moderation state: locks, mutes, kicks (compat, issue 15; see control.ts). */
  control: RoomControlStore;
  close(): Promise<void>;
}
