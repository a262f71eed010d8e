/**
 * The cluster seam: what the core needs so that a room can span instances, split by intent —
 * the room bus, the room log, the world store, client claims, members and the node registry.
 * Each has an in-memory implementation (one process; the default without REDIS_URL, and
 * several in-process nodes in tests) and a Redis one; one contract suite runs against both.
 *
 * Bytes, not objects, cross these interfaces: the core encodes a frame once and every instance
 * decodes it once. A log entry is `header ‖ message ‖ seq ‖ epoch` where `message` is an
 * encoded `graphwiz.core.Message` placed last, so the log appends the `seq` (field 4) and
 * `epoch` (field 5) varints without re-encoding: in protobuf the last value of a scalar wins.
 * @module
 */
import type { RoomControlStore } from "./control.ts";

/** Called for every frame another instance published to a room this instance subscribes to. */
export type BusHandler = (room: string, frame: Uint8Array, fromNode: string) => void;

/** Connection state of a backend. */
export interface BackendStatus {
  healthy: boolean;
  /** Why not healthy (sentence case), when not. */
  reason?: string;
}

/** Bus counters for /metrics. */
export interface BusCounters {
  published: number;
  received: number;
  /** Frames dropped because the backend was unavailable. */
  dropped: number;
  /** Backend errors: connection errors, failed commands, receiver exceptions. */
  errors: number;
  /** Times the backend turned healthy again after being lost. */
  reconnects: number;
}

/**
 * Per-room publish/subscribe between instances, for what is not sequenced (positions, voice,
 * raw text, control frames). An instance never receives its own publications; frames from
 * one publisher to one room arrive in the order published. Best effort: a frame that cannot be
 * sent (backend away) is dropped and counted, never queued.
 */
export interface RoomBus {
  /** Starts receiving the room's frames (idempotent; resolves once subscribed). */
  subscribe(room: string): Promise<void>;
  /** Stops receiving them (idempotent). */
  unsubscribe(room: string): Promise<void>;
  /** Publishes to every other subscribed instance; never throws. Do not mutate `frame` afterwards. */
  publish(room: string, frame: Uint8Array): void;
  /** Sets the single receiver of remote frames. */
  onFrame(handler: BusHandler): void;
  readonly counters: BusCounters;
}

/** A reliable message after the room log sequenced it. */
export interface LogEntry {
  seq: number;
  epoch: number;
  /** `header ‖ message ‖ seq/epoch varints`, exactly as published. */
  frame: Uint8Array;
}

/** Who holds a client id in a room (see {@link ClientClaims}). */
export interface Holder {
  /** The user (token `sub`), or null when anonymous. */
  user: string | null;
  /** The holding session's id (reliable clients) or connection's id (plain clients). */
  token: string;
  /** The instance of the connection that holds (or last held) it. */
  node: string;
  /** The connection holding it now; absent while detached. */
  conn?: string;
  /** While detached (a session waiting for a resume): when its window closes, ms since the epoch. */
  detachedUntil?: number;
}

/**
 * The change of a room's shared state that goes with a log append, applied atomically with it.
 * A guarded append happens only while `guard.clientId` is held by `guard.token` (and, with
 * `detached`, only while that hold is detached and its window has closed, by the backend's
 * clock): a departed or replaced client cannot act, and a due departure never ends a window
 * that a resume and a new drop opened meanwhile.
 */
export interface RoomChange {
  /**
   * `conn`: and held by that connection (a departure of a connection, never of its successor).
   * `superseded`: instead, only if the current holder took the client id over from `token` (a
   * newer connection of the same user, see {@link ClientClaims.claim}) and that session's end
   * has not been applied yet: the entities the client owned at the takeover (and still owns)
   * are dropped and returned as `orphans`; nothing else of the change applies, no frame is
   * appended, the hold and player stay (the player carries on). Applies once per takeover.
   * `user`: and the hold is that user's (null: anonymous; for a departure not made by the
   * connection that holds).
   */
  guard?: { clientId: string; token: string; conn?: string; detached?: boolean; superseded?: boolean; user?: string | null };
  /** Departure: drops the guard's hold, its session index, its player and every entity it owns. */
  release?: boolean;
  /**
   * A session that ended unheard gives way to a new one of the same holder: drops the guard's
   * player and every entity it owns, but keeps the hold (`release` wins if both are set).
   */
  reset?: boolean;
  /**
   * The frames announce the guard's client joining or leaving: they are appended only if the
   * store's player of that client is absent (`"join"`) or present (`"leave"`) before the change;
   * otherwise the change still applies and no entry is appended (`entries` is empty). So the
   * log never announces a join twice, nor a leave for a join it never had.
   */
  presence?: "join" | "leave";
  /** Player snapshots (encoded `PlayerSnapshot`) to store, by client id. */
  players?: [clientId: string, snapshot: Uint8Array][];
  /** Entity snapshots (encoded `EntitySnapshot`) to store, with their owner. */
  entities?: [entityId: string, owner: string, snapshot: Uint8Array][];
  /** Entities to remove. */
  despawn?: string[];
}

/** What an append did: the entries (one per frame, consecutive seqs), and for a release the entities it removed that the caller did not list. */
export interface Appended {
  entries: LogEntry[];
  /** Entities the released client owned that `change.despawn` did not name (already removed). */
  orphans: string[];
}

/**
 * The cluster-wide, ordered log of a room's reliable messages: assigns each the room's next
 * sequence number, keeps a bounded history (for resends and resume, possibly on another
 * instance), applies the room change and publishes the entries, in one atomic step.
 */
export interface RoomLog {
  /**
   * Appends `frames` (`header ‖ message` each) with `change`; resolves with their entries, or
   * `null` when the guard does not hold (nothing appended, nothing changed). Appends issued
   * in order resolve in order. The memory log answers synchronously (no promise).
   * @throws {ClusterUnavailableError} (or rejects with it) while the backend is away.
   */
  append(room: string, frames: Uint8Array[], change?: RoomChange): Appended | null | Promise<Appended | null>;
  /** Entries with `seq > afterSeq` of `epoch`, oldest first (at most `limit`); `null` if that history is gone. */
  read(room: string, epoch: number, afterSeq: number, limit: number): LogEntry[] | null | Promise<LogEntry[] | null>;
  /** The room's epoch and last seq, creating the epoch when the room has none. */
  head(room: string): { epoch: number; seq: number } | Promise<{ epoch: number; seq: number }>;
  /**
   * Starts a new epoch (seq 0, history cleared) if the room's log is still at `epoch`, and
   * returns the room's epoch after it. For a log that went back in time (a failover to a replica
   * that lacked the last appends): the same seq must never name two messages.
   */
  rebase(room: string, epoch: number): number | Promise<number>;
}

/** A room's shared state as an instance loads it when the room opens there. */
export interface RoomSnapshot {
  /** The log position the state reflects (every entry up to `seq` is in it). */
  epoch: number;
  seq: number;
  /** Encoded `PlayerSnapshot`s. */
  players: Uint8Array[];
  /** Encoded `EntitySnapshot`s. */
  entities: Uint8Array[];
  /** Who holds each client id. */
  holders: Map<string, Holder>;
}

/**
 * The rooms' shared world: read whole when a room opens on an instance (consistent with a log
 * position), and poses written (throttled) between reliable changes.
 */
export interface WorldStore {
  /** The room's state and the log position it reflects, read atomically. */
  load(room: string): RoomSnapshot | Promise<RoomSnapshot>;
  /** Replaces a player's or an entity's stored snapshot, only if it is still there (a pose never resurrects). */
  setPose(room: string, kind: "player" | "entity", id: string, snapshot: Uint8Array): Promise<void>;
}

/** The outcome of {@link ClientClaims.claim}. */
export type Claim =
  | { ok: true; /** The hold this one replaced (same user), if any. */ previous?: Holder }
  | { ok: false; /** The current holder (another user). */ holder: Holder };

/** One detached hold whose window has closed (see {@link ClientClaims.due}). */
export interface DueHold {
  room: string;
  clientId: string;
  token: string;
}

/**
 * Who holds each client id of a room, cluster-wide: one connection (or one detached session)
 * of one user at a time. The room log's guards read the same holds.
 */
export interface ClientClaims {
  /**
   * Takes `clientId` for `holder`: granted when nobody holds it, when the same token holds it
   * (a resume: re-attached), or when the same user does (the previous hold is returned so its
   * connection can be closed); refused when another user holds it. A takeover by another
   * connection remembers the replaced token with the entities the client owns then (the last
   * four such), for a late deliberate end of that session (`RoomChange.guard.superseded`).
   */
  claim(room: string, clientId: string, holder: Holder, sessionId?: string): Claim | Promise<Claim>;
  /** The client id a session holds in the room, if the session still holds one. */
  sessionClient(room: string, sessionId: string): string | undefined | Promise<string | undefined>;
  /** Marks a hold detached until `until` (ms) — only if `token` still holds it through connection `conn`. */
  detach(room: string, clientId: string, token: string, conn: string, until: number): void | Promise<void>;
  /** Detached holds whose window closed by `now`, oldest first (at most `limit`). */
  due(now: number, limit: number): DueHold[] | Promise<DueHold[]>;
  /**
   * Forgets a due entry once it was handled (its hold was released or re-attached) — unless the
   * hold was detached again meanwhile with a window still open: that entry stays due.
   */
  done(hold: DueHold): void | Promise<void>;
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
  /** The holder token of the connection (session id, or the connection id). */
  token?: string;
}

/** Every connection of every instance, by room (for stats and for reaping dead instances). */
export interface MemberStore {
  add(m: MemberInfo): Promise<void>;
  remove(room: string, connectionId: string): Promise<void>;
  /** Every member of the room on every instance. */
  list(room: string): Promise<MemberInfo[]>;
}

/** One live instance. */
export interface NodeInfo {
  node_id: string;
  connections: number;
  /** Last heartbeat, ms since the epoch (the store's clock). */
  last_heartbeat: number;
  runtime?: string;
  version?: string;
}

/** What a dead instance left behind, for a survivor to clean up. */
export interface DeadNode {
  node_id: string;
  /**
   * By room: its `members` (already removed from the member store). Members whose hold was a
   * session are now detached for the resume window (their leave comes when it closes, via
   * {@link ClientClaims.due}); the `departed` are the client ids of plain members whose hold
   * was the dead connection itself: the survivor departs them (a guarded release).
   */
  rooms: { room: string; members: MemberInfo[]; departed: { clientId: string; token: string }[] }[];
}

/** Instance liveness. */
export interface NodeRegistry {
  /**
   * Records this node alive with its counts, and keeps the shared state of `rooms` (the rooms
   * open on it) from expiring. The store stamps `last_heartbeat` with the backend's clock.
   * Resolves `forgotten: true` when the store lost this node since its previous heartbeat (it
   * was reaped, or Redis lost its data): the caller then puts its state back.
   */
  heartbeat(node: NodeInfo, rooms: string[]): Promise<{ forgotten: boolean }>;
  /** The live nodes (last heartbeat within the TTL). */
  nodes(): Promise<NodeInfo[]>;
  /**
   * Finds nodes silent for longer than the TTL, removes their members, detaches their sessions'
   * holds until `now + resumeWindowMs`, and reports them — each dead node to exactly one caller
   * cluster-wide. Never reaps the calling node. The caller must only call this after its own
   * heartbeats have succeeded for a whole TTL (liveness counts only time Redis was reachable).
   */
  reap(resumeWindowMs: number): Promise<DeadNode[]>;
}

/** The backends together, as built from configuration. */
export interface ClusterBackend {
  kind: "memory" | "redis";
  nodeId: string;
  bus: RoomBus;
  log: RoomLog;
  world: WorldStore;
  claims: ClientClaims;
  members: MemberStore;
  nodes: NodeRegistry;
  /** Room moderation: locks, mutes, kicks (see control.ts). */
  control: RoomControlStore;
  /** Whether the backend is reachable. */
  status(): BackendStatus;
  /** Called on every health change (e.g. Redis lost / back). */
  onStatus(cb: (s: BackendStatus) => void): void;
  close(): Promise<void>;
}
