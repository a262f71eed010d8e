/**
 * Who owns a client id. This is the one place that decides which connection (or detached
 * session) holds a client id in a room — one connection of one user at a time, cluster-wide —
 * and nothing departs or replaces a connection that does not hold it:
 *
 * - A connection claims its client id when it joins. Free → it holds it. Held by the same user
 *   → the old connection is closed (4410 REPLACED) and the player goes on, no leave/join.
 *   Held by another user (or an anonymous holder) → refused (4409 CLIENT_ID_CONFLICT).
 * - A reliable connection's hold is its session. When it drops (anything but a deliberate 1000)
 *   the hold is detached for RESUME_WINDOW_MS; a resume (on any instance) re-attaches it.
 * - **The leave rule**: no PRESENCE_LEAVE while a client's resume window is open, on any
 *   instance; exactly one, cluster-wide, when it closes without a resume — also for the clients
 *   of an instance that died (their window starts when the death is noticed), counting only
 *   time the store was reachable (core/reachable.ts). Every departure is a guarded release in
 *   the room log: it happens only if the departing hold still holds.
 * @module
 */
import type { ClientClaims, Holder } from "../cluster/types.ts";
import { CloseCode, ErrorCode } from "../errors.ts";
import { newSessionId } from "../lib/ids.ts";
import { then, type Maybe } from "../lib/maybe.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { MessageType, PresenceEventType } from "../protocol/types.ts";
import type { Broadcaster } from "./broadcast.ts";
import type { Connection } from "./connection.ts";
import { releasesOf } from "./holds.ts";
import { hostAmong, hostChange, hostOf } from "./host.ts";
import type { Room } from "./room.ts";
import type { Admission, Departure } from "./session-types.ts";

export type { Admission, Departure } from "./session-types.ts";

/** A detach the store has not taken yet. */
type Detach = { room: string; clientId: string; token: string; conn: string; until: number };

/** Whether another member here holds `conn`'s client id now (it was replaced or taken over). */
function replaced(room: Room, conn: Connection): boolean {
  for (const m of room.members) if (m !== conn && m.clientId === conn.clientId) return true;
  return false;
}

/** What {@link Sessions} needs. */
export interface SessionsOptions {
  claims: ClientClaims;
  out: Broadcaster;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  nodeId: string;
  /** RESUME_WINDOW_MS. */
  resumeWindowMs: number;
  /** The room open here, or a channel to append through when it is not. */
  room(id: string): Room;
  /** Closes the connection of `holder` in `roomId` (replaced by a newer one), on whichever instance it is. */
  replace(roomId: string, holder: Holder, code: number, why: string): void;
  /** Whether connection `connId` is open on this instance. */
  live(connId: string): boolean;
  /** How a leave is conditioned on the shared store (`Replication.presence("leave")`). */
  presence?: "leave";
  /** Fills a room that is not open here with the players the cluster stores (to name its host). */
  hydrate(room: Room): Maybe<void>;
  /** The latest window end closed by `now`, counting only time the store was reachable (core/reachable.ts; default: now). */
  closedBy?(now: number): number;
}

/** Holds, sessions and departures. */
export class Sessions {
  /** Detaches the store could not take yet (retried by the sweep, so a hold never stays attached to a gone connection). */
  readonly #detaches: Detach[] = [];
  /** Departures whose room (not open here) could not be read from the store yet (retried by the sweep). */
  readonly #departs: { roomId: string; clientId: string; token: string; how: Departure }[] = [];
  readonly #warned = new WeakSet<Departure>(); // those of them already logged
  constructor(readonly opts: SessionsOptions) {}

  /** Claims the client id of a joining connection (resuming its session when it asks to). */
  admit(conn: Connection): Maybe<Admission> {
    const want = conn.resume;
    if (!conn.reliable || !want) return this.#claim(conn, false);
    return then(this.opts.claims.sessionClient(conn.room.id, want.sessionId), (clientId) => {
      if (clientId === undefined) {
        this.opts.metrics.delivery.resume_misses++;
        return this.#claim(conn, false);
      }
      const own = conn.clientId;
      conn.clientId = clientId;
      conn.session = want.sessionId;
      return then(this.#claim(conn, true), (a) => {
        if (a.kind === "conflict") {
          // Someone else's session: start afresh under the connection's own id.
          this.opts.metrics.delivery.resume_misses++;
          conn.session = undefined;
          conn.clientId = own;
          return this.#claim(conn, false);
        }
        return { kind: "resumed", epoch: want.epoch, lastSeq: want.lastSeq };
      });
    });
  }

  #claim(conn: Connection, resuming: boolean): Maybe<Admission> {
    if (conn.reliable && !resuming) conn.session = newSessionId();
    const holder: Holder = { user: conn.userId, token: conn.token, node: this.opts.nodeId, conn: conn.id };
    return then(this.opts.claims.claim(conn.room.id, conn.clientId, holder, resuming ? undefined : conn.session), (c): Admission => {
      if (!c.ok) return { kind: "conflict", holder: c.holder };
      const prev = c.previous;
      // Our own connection, gone, whose departure has not reached the log (it waits for the store):
      // its session ended, so the room hears it leave before this one joins.
      if (!resuming && prev?.conn && prev.conn !== conn.id && prev.node === this.opts.nodeId && !this.opts.live(prev.conn)) {
        return { kind: "fresh", restart: true };
      }
      if (prev?.conn && prev.conn !== conn.id) {
        if (resuming) this.opts.replace(conn.room.id, prev, CloseCode.SESSION_REPLACED, "This session was resumed by a newer connection");
        else this.opts.replace(conn.room.id, prev, CloseCode.REPLACED, "A newer connection took this client id over");
      }
      return { kind: "fresh" };
    });
  }

  /** A reliable connection turns on acknowledged delivery after joining: it gets a session. */
  enable(conn: Connection): Maybe<boolean> {
    const session = newSessionId();
    const holder: Holder = { user: conn.userId, token: session, node: this.opts.nodeId, conn: conn.id };
    // The hold moves from the connection to its new session (same user, so granted).
    return then(this.opts.claims.claim(conn.room.id, conn.clientId, holder, session), (c) => {
      if (!c.ok) return false;
      conn.session = session;
      const p = (conn.room as Room).world.players.get(conn.clientId);
      if (p) p.token = session;
      return true;
    });
  }

  /**
   * A member's connection ended. A reliable one that did not close deliberately keeps its hold
   * for the resume window; any other departs (if it still holds its client id).
   */
  ended(conn: Connection, code: number): void {
    const room = conn.room as Room;
    const window = this.opts.resumeWindowMs;
    // A deliberate close, or a kick, ends the session at once.
    if (conn.session && code !== CloseCode.NORMAL && code !== CloseCode.KICKED && window > 0) {
      const until = this.opts.clock.now() + window;
      // Another member here has the client id (newer, or older not yet known gone): no ghost of
      // ours. The detach still goes (guarded by this connection in the store), or nothing would.
      if (!replaced(room, conn)) room.ghosts.set(conn.clientId, { token: conn.token, conn: conn.id, until });
      this.#detach({ room: room.id, clientId: conn.clientId, token: conn.token, conn: conn.id, until });
      return;
    }
    this.depart(room.id, conn.clientId, conn.token, { conn: conn.id, deliberate: code === CloseCode.NORMAL || code === CloseCode.KICKED });
  }

  /**
   * Departs a client if `token` still holds it (with `detached`: only while that hold is
   * detached): PRESENCE_LEAVE (naming the host after it), then OBJECT_RELEASE for what it held,
   * ENTITY_DESPAWN for every entity it owned and — when it was the host — the new host, all in
   * the room log, so every instance and every resumed client hears it once. A `deliberate`
   * end (1000, a kick) refused because a newer connection of the same user took the client id
   * over first (the store heard of the end only after an outage) still drops what this session
   * owned: see {@link #superseded}.
   */
  depart(roomId: string, clientId: string, token: string, how: Departure = {}): void {
    const { detached = false, conn, after, reset = false, deliberate = false, user } = how;
    const room = this.opts.room(roomId);
    const go = (): void => {
      const out = this.opts.out;
      const hostBefore = hostOf(room.world);
      const hostAfter = hostAmong([...room.world.players.values()].filter((p) => p.client_id !== clientId));
      const leave = { type: MessageType.PRESENCE_LEAVE, payload: "presence_event" as const, presence_event: { client_id: clientId, event_type: PresenceEventType.LEAVE, data: { host_client_id: hostAfter } } };
      out.reliable(room, leave, {
        change: { guard: { clientId, token, detached, conn, user }, release: !reset, reset, presence: this.opts.presence },
        patient: true,
        done: (_seq, orphans, refused) => {
          after?.();
          if (refused) return void (deliberate && this.#superseded(room, clientId, token, user));
          // Released. The leave itself was not appended when the room never had the join (its
          // instance died before appending it): then its state here goes quietly.
          const now = this.opts.clock.now();
          room.ghosts.delete(clientId);
          const player = room.world.players.get(clientId);
          const owned = room.world.leave(clientId, now);
          for (const release of releasesOf(player ? [player] : [], now)) out.reliable(room, release);
          for (const id of new Set([...owned, ...orphans])) {
            out.reliable(room, { type: MessageType.ENTITY_DESPAWN, payload: "entity_despawn", entity_despawn: { entity_id: id } }, { change: { despawn: [id] } });
          }
          const announce = hostChange(room.world, hostBefore);
          if (announce) out.reliable(room, announce);
        },
      });
    };
    if (!room.ephemeral) return go();
    // A room not open here is read from the store first; unreachable, the sweep tries again.
    let read: Maybe<void>;
    try { read = this.opts.hydrate(room); } catch (e) { read = Promise.reject(e); }
    void Promise.resolve(read).then(go, (e: Error) => {
      if (!this.#warned.has(how)) this.opts.logger.warn("cluster_call_failed", { what: "read room for a departure", message: e.message });
      this.#warned.add(how);
      this.#departs.push({ roomId, clientId, token, how });
    });
  }

  /**
   * A session that ended deliberately while the store was unreachable, whose client id a newer
   * connection of the same user took over (through another instance) before the end reached
   * the store: the deliberate end still wins for what that session left — the entities the
   * client owned at the takeover are despawned — but the player carries on with the new
   * connection (no leave: the room already has it back). The store decides, once per takeover
   * (`RoomChange.guard.superseded`); the LEAVE below is never appended, only its change applies.
   */
  #superseded(room: Room, clientId: string, token: string, user?: string | null): void {
    const out = this.opts.out;
    const marker = { type: MessageType.PRESENCE_LEAVE, payload: "presence_event" as const, presence_event: { client_id: clientId, event_type: PresenceEventType.LEAVE } };
    out.reliable(room, marker, {
      change: { guard: { clientId, token, superseded: true, user } },
      patient: true,
      done: (_seq, dropped, refused) => {
        if (refused) return;
        const now = this.opts.clock.now();
        for (const id of dropped) {
          room.world.despawn(id, now);
          out.reliable(room, { type: MessageType.ENTITY_DESPAWN, payload: "entity_despawn", entity_despawn: { entity_id: id } }, { change: { despawn: [id] } });
        }
      },
    });
  }

  /**
   * The session `conn` took over had ended unheard (see {@link Admission}): its leave, despawns
   * and host change now, guarded by `conn`'s own hold, which stays.
   */
  restart(conn: Connection): void {
    this.depart(conn.room.id, conn.clientId, conn.token, { conn: conn.id, reset: true });
  }

  /**
   * A resume its client closed deliberately while it was joining, and whose join then failed
   * (the store unreachable): the session it named ends, as the client asked — once the store
   * is back, and only if that session of that user still holds the client id (or was taken
   * over since, see {@link #superseded}).
   */
  abandoned(conn: Connection): void {
    if (!conn.resume) return;
    this.depart(conn.room.id, conn.clientId, conn.resume.sessionId, { deliberate: true, user: conn.userId });
  }

  #detach(d: Detach): void {
    const retry = () => this.#detaches.push(d);
    try {
      const r = this.opts.claims.detach(d.room, d.clientId, d.token, d.conn, d.until);
      if (r instanceof Promise) r.catch(retry);
    } catch {
      retry();
    }
  }

  /** The sweep: departs clients whose detached window closed, counting only reachable time (cluster-wide: whichever instance sees it first). */
  expire(now: number): void {
    for (const d of this.#detaches.splice(0)) this.#detach(d);
    for (const d of this.#departs.splice(0)) this.depart(d.roomId, d.clientId, d.token, d.how);
    const cut = this.opts.closedBy?.(now) ?? now;
    if (cut === -Infinity) return; // this instance has not seen the store reachable for a whole window yet
    this.#quiet("expire holds", () => then(this.opts.claims.due(cut, 100), (due) => {
      for (const d of due) {
        // Forgotten only once the departure was answered: an instance dying between the two leaves it due for another.
        this.depart(d.room, d.clientId, d.token, { detached: true, after: () => this.#quiet("forget due hold", () => this.opts.claims.done(d)) });
      }
    }));
  }

  /** A hold was refused by the log: its connection no longer holds its client id. */
  lost(conn: Connection): void {
    this.opts.out.closeWith(conn, CloseCode.REPLACED, ErrorCode.UNAUTHORIZED, "This client id is held by another connection now");
  }

  /** Runs a claims call whose failure must not escape (logged; the sweep tries again). */
  #quiet(what: string, f: () => Maybe<unknown>): void {
    try {
      const r = f();
      if (r instanceof Promise) r.catch((e: Error) => this.opts.logger.warn("cluster_call_failed", { what, message: e.message }));
    } catch (e) {
      this.opts.logger.warn("cluster_call_failed", { what, message: (e as Error).message });
    }
  }
}
