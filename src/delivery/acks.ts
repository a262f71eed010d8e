/**
 * Acknowledged delivery for `?ack=1` clients: cumulative ACKs, resends with exponential
 * backoff from the room log (same bytes, same `seq`), the close after MAX_RETRIES, and
 * sessions that survive a dropped connection for RESUME_WINDOW_MS.
 * @module
 */
import type { LogEntry } from "../cluster/types.ts";
import type { Connection } from "../core/connection.ts";
import type { Hub } from "../core/hub.ts";
import { CloseCode } from "../errors.ts";
import type { Delivery } from "./engine.ts";
import { expireSession } from "../core/departure.ts";
import { then, type Maybe } from "../core/maybe.ts";
import { decodeFrame, outboundOf } from "./frames.ts";
import type { Session } from "./sessions.ts";

/** Whether a log entry is meant for `clientId` (not its own message; not someone else's whisper). */
export function owed(entry: LogEntry, clientId: string): boolean {
  const m = decodeFrame(entry.frame);
  return m.sender !== clientId && (m.only === "" || m.only === clientId);
}

/** The outcome of joining with (or without) a resume request. */
export interface JoinResult {
  /** `replay` brings the client up to date (hello says `resumed: true`). */
  resumed: boolean;
  /** The session continues: the client id stays the session's; no PRESENCE_JOIN if the room still has it. */
  quiet: boolean;
  /** Log entries after the client's `last_seq` that are owed to it, oldest first. */
  replay: LogEntry[];
}

const NONE: JoinResult = { resumed: false, quiet: false, replay: [] };

/** The backoff delay before resend number `attempt` (1-based). */
export function retryDelay(attempt: number, ackTimeoutMs: number): number {
  return ackTimeoutMs * 2 ** attempt;
}

/** Sessions and acknowledgements of one hub. */
export class Acks {
  readonly #reliable = new Set<Connection>();
  constructor(readonly hub: Hub, readonly delivery: Delivery) {}

  /**
   * Sets up a reliable connection as it joins: a new session, or the one it resumes (found here
   * or, in a cluster, in the shared store). Must finish before the hello is sent (it carries the
   * session id). Synchronous with the memory backend; a promise with Redis.
   */
  join(conn: Connection): Maybe<JoinResult> {
    if (!conn.reliable) return NONE;
    const room = conn.room;
    return then(this.delivery.log.head(room.id), (head) => {
      room.epoch = head.epoch;
      room.seq = head.seq;
      conn.ackEpoch = head.epoch;
      conn.acked = head.seq;
      conn.retries = conn.nextRetryAt = 0;
      this.#reliable.add(conn);
      const want = conn.resume;
      if (!want) return this.#fresh(conn);
      return then(this.#find(want.sessionId), (s) => {
        if (!s || s.roomId !== room.id || s.userId !== conn.userId) return this.#fresh(conn, true);
        this.#takeOver(s, conn);
        const epochOk = want.epoch === undefined || want.epoch === head.epoch;
        const entries = epochOk && want.lastSeq <= head.seq ? this.delivery.log.read(room.id, head.epoch, want.lastSeq, head.seq - want.lastSeq) : null;
        return then(entries, (got) => {
          if (!got) {
            // The session goes on (same client id, no presence blip) but the gap cannot be filled:
            // `resumed: false` tells the client to rebuild from the hello's world state.
            this.hub.metrics.delivery.resume_misses++;
            return { resumed: false, quiet: true, replay: [] };
          }
          this.hub.metrics.delivery.resumes++;
          conn.acked = want.lastSeq;
          return { resumed: true, quiet: true, replay: got.filter((e) => owed(e, conn.clientId)) };
        });
      });
    });
  }

  #fresh(conn: Connection, missed = false): JoinResult {
    if (missed) this.hub.metrics.delivery.resume_misses++;
    conn.session = this.delivery.sessions.create(conn.room.id, conn.userId, conn.clientId, conn.id);
    this.#share(conn.session);
    return NONE;
  }

  /** A session by id: this instance's, else (in a cluster) one another instance shared. */
  #find(id: string): Maybe<Session | undefined> {
    const local = this.delivery.sessions.get(id);
    if (local || !this.hub.link.opts.shareWorld) return local;
    return this.hub.link.getSession(id).then((r) => r && this.delivery.sessions.adopt(r));
  }

  /** Tells the cluster where a session is now (attached: kept a day; detached: for the resume window). */
  #share(s: Session): void {
    if (!this.hub.link.opts.shareWorld) return;
    const ttl = s.connectionId ? 86_400_000 : this.hub.config.resumeWindowMs;
    this.hub.link.putSession({ id: s.id, room_id: s.roomId, user_id: s.userId, client_id: s.clientId, node_id: this.hub.link.nodeId, connection_id: s.connectionId }, ttl);
  }

  /** A joined connection asks for acknowledged delivery (`ClientHello.reliable`): it gets a session from now on. */
  enable(conn: Connection): void {
    if (conn.reliable) return;
    conn.reliable = true;
    conn.room.reliable++;
    conn.ackEpoch = conn.room.epoch;
    conn.acked = conn.room.seq;
    conn.retries = conn.nextRetryAt = 0;
    conn.session = this.delivery.sessions.create(conn.room.id, conn.userId, conn.clientId, conn.id);
    this.#share(conn.session);
    this.#reliable.add(conn);
  }

  #takeOver(s: Session, conn: Connection): void {
    const room = conn.room;
    if (s.connectionId) {
      // A half-open old socket: it loses the session, quietly.
      const old = [...room.members].find((m) => m.id === s.connectionId);
      if (old) {
        old.session = undefined;
        old.replacedBy = conn.id;
        this.hub.closeWith(old, CloseCode.SESSION_REPLACED, "DISCONNECT", "This session was resumed by a newer connection");
      }
    } else if (s.expiresAt !== undefined) room.ghosts--;
    conn.clientId = s.clientId;
    conn.session = s;
    this.delivery.sessions.attach(s, conn.id);
    this.#share(s);
  }

  /**
   * A reliable connection closed. Returns whether the room should see it leave now: yes after
   * a deliberate close (1000) or without a session; otherwise the session waits for a resume.
   */
  closed(conn: Connection, code: number): boolean {
    this.#reliable.delete(conn);
    const s = conn.session;
    if (!s) return conn.replacedBy === undefined;
    // A kicked client's session ends with it (compat, issue 15): nothing to resume.
    if (code === CloseCode.NORMAL || code === CloseCode.KICKED || this.hub.config.resumeWindowMs === 0) {
      this.delivery.sessions.end(s);
      if (this.hub.link.opts.shareWorld) this.hub.link.deleteSession(s.id);
      return true;
    }
    this.delivery.sessions.detach(s, this.hub.clock.now(), this.hub.config.resumeWindowMs);
    this.#share(s);
    conn.room.ghosts++;
    return false;
  }

  /** A cumulative ACK: everything up to `seq` arrived. */
  ack(conn: Connection, seq: number): void {
    if (seq > conn.acked && seq <= conn.room.seq) {
      conn.acked = seq;
      conn.retries = 0;
      conn.nextRetryAt = 0;
    }
  }

  /** Resends what is overdue; closes connections out of retries; expires detached sessions. */
  sweep(now: number): void {
    for (const conn of this.#reliable) this.#check(conn, now);
    for (const s of this.delivery.sessions.expire(now)) expireSession(this.hub, s);
  }

  #check(conn: Connection, now: number): void {
    const room = conn.room;
    if (conn.isClosed || conn.queue) return; // a slow connection's queue already holds its messages
    if (room.epoch !== conn.ackEpoch) {
      // The log started a new epoch (idle expiry, Redis lost): earlier messages cannot be resent.
      conn.ackEpoch = room.epoch;
      conn.acked = 0;
    }
    if (room.seq <= conn.acked) return void (conn.nextRetryAt = 0);
    if (!conn.nextRetryAt) return void (conn.nextRetryAt = now + this.hub.config.ackTimeoutMs);
    if (now < conn.nextRetryAt) return;
    const entries = this.delivery.log.read(room.id, room.epoch, conn.acked, room.seq - conn.acked);
    if (entries instanceof Promise) return void entries.then((e) => this.#resend(conn, e, now), () => {});
    this.#resend(conn, entries, now);
  }

  #resend(conn: Connection, entries: LogEntry[] | null, now: number): void {
    if (conn.isClosed) return;
    const { hub } = this;
    const due = entries?.filter((e) => owed(e, conn.clientId));
    if (due && due.length === 0) {
      // Only the client's own messages were outstanding: nothing is owed.
      conn.acked = conn.room.seq;
      conn.nextRetryAt = 0;
      return;
    }
    if (!due || conn.retries >= hub.config.maxRetries) {
      hub.metrics.delivery.unresponsive_closes++;
      const why = due ? `No ACK after ${conn.retries} resends` : "Unacknowledged messages fell out of the room history";
      return hub.closeWith(conn, CloseCode.UNRESPONSIVE, "DISCONNECT", why);
    }
    conn.retries++;
    hub.metrics.delivery.retries += due.length;
    for (const e of due) this.delivery.sendTo(conn, outboundOf(decodeFrame(e.frame).payload));
    conn.nextRetryAt = now + retryDelay(conn.retries, hub.config.ackTimeoutMs);
  }

  /** Unacknowledged messages over all reliable connections (for /metrics). */
  unacked(): number {
    let n = 0;
    for (const c of this.#reliable) n += Math.max(0, c.room.seq - c.acked);
    return n;
  }
}
