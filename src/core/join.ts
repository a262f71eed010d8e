/**
 * Joining a room: the room opens here (its shared state loaded), the connection claims its
 * client id (or resumes its session), and then — in one synchronous step — it becomes a member:
 * SERVER_HELLO first, a resumed session's missed messages, then the live room. The room sees
 * PRESENCE_JOIN unless the client was already there (a resume, or a takeover by its own user).
 * Synchronous with the memory backend; with Redis, frames the client sends meanwhile wait.
 * @module
 */
import type { LogEntry, RoomLog } from "../cluster/types.ts";
import type { Acks } from "../delivery/acks.ts";
import { owed } from "../delivery/acks.ts";
import type { Delivery } from "../delivery/deliver.ts";
import type { InOrder } from "../delivery/in-order.ts";
import { outboundOf, payloadOf } from "../delivery/frames.ts";
import { CloseCode, ErrorCode } from "../errors.ts";
import type { Clock } from "../lib/clock.ts";
import type { MessageIds } from "../lib/ids.ts";
import { then, type Maybe } from "../lib/maybe.ts";
import type { Frame } from "../lib/transport.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { MessageType } from "../protocol/types.ts";
import type { Broadcaster } from "./broadcast.ts";
import type { Connection } from "./connection.ts";
import { helloFrames } from "./hello.ts";
import { joinEvent, joinTime } from "./host.ts";
import type { Replication } from "./replication.ts";
import type { Room } from "./room.ts";
import type { Rooms } from "./rooms.ts";
import type { Admission, Sessions } from "./sessions.ts";
import type { Player } from "./world.ts";

/** What {@link Joiner} needs. */
export interface JoinerOptions {
  rooms: Rooms;
  sessions: Sessions;
  replication: Replication;
  delivery: Delivery;
  acks: Acks;
  log: RoomLog;
  out: Broadcaster;
  ids: MessageIds;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** HISTORY_SIZE: the most a resume can replay. */
  historySize: number;
  /** Releases room entries in order (a resume's read catches a lagging room up through it). */
  inOrder: InOrder;
  /** Handles a frame (or a deferred step) that arrived while the join was in progress. */
  handle(conn: Connection, item: Frame | (() => void)): void;
}

/**
 * Takes back the player a join put into this instance's world when the room log refused that
 * join: before it got there (it waited in the outbox, say, through an outage) the session was
 * released — its window closed and another instance departed it, with nothing to announce since
 * the store never listed the player — or its client id was taken over. Nothing else would ever
 * remove the player here. Kept when the log has joined the client since (applyRemote clears the
 * token) or another connection here holds the client id.
 */
function unjoin(room: Room, conn: Connection, player: Player, now: number): void {
  const holder = room.members.holder(conn.clientId);
  if (room.world.players.get(conn.clientId) !== player || player.token !== conn.token || (holder && holder !== conn)) return;
  room.world.unjoin(conn.clientId, now);
}

/** A resume's replay: the entries read from the log (null: that history is gone). */
type Replay = { admission: Admission; got?: LogEntry[] | null };

/** Joins connections to their rooms. */
export class Joiner {
  /** How the connections that closed while joining closed. */
  readonly #closedWith = new WeakMap<Connection, number>();
  constructor(readonly opts: JoinerOptions) {}

  /** A connection closed before it became a member: its join ends by this code (see {@link #joined}). */
  closed(conn: Connection, code: number): void {
    this.#closedWith.set(conn, code);
  }

  /** Whether `conn` was closed deliberately (1000, or a kick) while it was joining. */
  #deliberate(conn: Connection): boolean {
    const code = this.#closedWith.get(conn);
    return code === CloseCode.NORMAL || code === CloseCode.KICKED;
  }

  /** Joins an admitted connection (its `room` names the room to join). */
  join(conn: Connection): void {
    const room = this.opts.rooms.acquire(conn.room.id);
    conn.room = room;
    room.joining++;
    let ready: Maybe<Replay>;
    let claimed: Admission | undefined;
    try {
      ready = then(then(room.opening as Maybe<void>, () => this.opts.sessions.admit(conn)), (a) => this.#read(room, (claimed = a)));
    } catch (e) {
      ready = Promise.reject(e); // the store refused at once (unreachable): fails like a late refusal
    }
    if (!(ready instanceof Promise)) return this.#joined(conn, ready);
    conn.early ??= [];
    ready.then((r) => this.#joined(conn, r), (e: Error) => {
      this.opts.logger.error("join_failed", { room: room.id, connection: conn.id, message: e.message });
      room.joining--;
      conn.releaseSlot();
      this.opts.out.closeWith(conn, CloseCode.INTERNAL, ErrorCode.DISCONNECT, "Could not join the room; try again");
      // A resume the client had closed deliberately meanwhile: the session it named ends.
      if (this.#deliberate(conn)) this.opts.sessions.abandoned(conn);
      // Failed after its claim (the log read of a resume, in an outage): the client id is held
      // through this connection, now gone — it ends as a dropped member's would (a session
      // keeps its window), else nothing would ever release it.
      else if (claimed && claimed.kind !== "conflict") this.opts.sessions.ended(conn, CloseCode.GOING_AWAY);
      this.opts.rooms.release(room);
    });
  }

  /** A resume reads what the client missed before it becomes a member (the rest comes live). */
  #read(room: Room, admission: Admission): Maybe<Replay> {
    if (admission.kind !== "resumed") return { admission };
    const sameEpoch = admission.epoch === undefined || admission.epoch === room.epoch;
    // From where this room stands if that is earlier: the client may have seen more than this
    // instance has (it was on another one), and the room catches up with the read (#catchUp).
    const after = sameEpoch ? Math.min(admission.lastSeq, room.seq) : 0;
    let got;
    try {
      got = this.opts.log.read(room.id, room.epoch, after, this.opts.historySize);
    } catch {
      return { admission, got: null };
    }
    return then(got, (g) => ({ admission, got: g }));
  }

  #joined(conn: Connection, { admission, got }: Replay): void {
    const room = conn.room as Room;
    room.joining--;
    conn.releaseSlot();
    const { opts } = this;
    if (conn.isClosed) {
      // Closed while joining, after its claim: it holds the client id, so it ends as a dropped
      // member would (a session keeps its window: the connection it replaced may still be on
      // its way out, and the client never learned whether it got in) — unless it closed
      // deliberately (1000, or a kick): the client wants out, its session ends now.
      if (admission.kind !== "conflict") opts.sessions.ended(conn, this.#deliberate(conn) ? this.#closedWith.get(conn)! : CloseCode.GOING_AWAY);
      return opts.rooms.release(room);
    }
    if (admission.kind === "conflict") {
      opts.out.closeWith(conn, CloseCode.CLIENT_ID_CONFLICT, ErrorCode.UNAUTHORIZED, `Client id ${conn.clientId} is held by another user in this room`);
      return opts.rooms.release(room);
    }
    if (admission.kind === "fresh" && admission.restart) opts.sessions.restart(conn);
    const now = opts.clock.now();
    const world = room.world;
    room.ghosts.delete(conn.clientId);
    const existing = world.players.get(conn.clientId);
    if (existing) existing.token = conn.token;
    // Every field set later is in the literal (undefined until then): on V8 a field added after
    // creation costs the player a property array, and one is kept per idle connection.
    else world.join({ client_id: conn.clientId, user_id: conn.userId ?? undefined, display_name: conn.displayName, token: conn.token, joined_at: joinTime(world, now), helloJson: undefined, helloPb: undefined, helloXr: undefined, counted: 0 }, now);

    // Membership, hello and replay in one synchronous step: nothing can slip between them.
    const resumed = admission.kind === "resumed";
    if (resumed && got) this.#catchUp(room, got);
    const replay = resumed ? this.#replay(conn, room, admission.lastSeq, admission.epoch, got) : undefined;
    if (resumed) opts.metrics.delivery[replay?.complete ? "resumes" : "resume_misses"]++;
    room.admit(conn);
    conn.joined = true;
    opts.delivery.subscribe(conn);
    for (const frame of helloFrames(conn, opts.ids.next(), now, replay?.complete ?? false)) opts.delivery.sendTo(conn, frame, undefined, conn.format, false);
    for (const e of replay?.entries ?? []) opts.delivery.sendTo(conn, outboundOf(payloadOf(e.frame)));
    // What the log answered for this session while it was away (see Broadcaster's outcomes).
    if (resumed && conn.session) for (const msg of room.takeOutcomes(conn.session)) opts.out.send(conn, msg);
    // What the resumed client has not acknowledged yet is resent if it goes unacknowledged.
    if (conn.reliable) opts.acks.track(conn, room.epoch, replay && got ? Math.min(replay.from, room.seq) : room.seq);
    opts.replication.joined(conn);
    // Shared rooms: the store decides whether this is news (this instance may lag behind a
    // leave, or not have seen the join yet); alone, this world does.
    const presence = opts.replication.presence("join");
    if (!existing || presence) {
      const player = world.players.get(conn.clientId)!;
      opts.out.reliable(room, { type: MessageType.PRESENCE_JOIN, payload: "presence_event", presence_event: joinEvent(world, conn.clientId) }, {
        sender: conn,
        change: { players: opts.replication.players([player]), presence },
        done: existing ? undefined : (_seq, _orphans, refused) => void (refused && unjoin(room, conn, player, opts.clock.now())),
      });
    }
    opts.logger.info("connection_open", { room: room.id, connection: conn.id, user: conn.userId, client: conn.clientId, format: conn.format, resumed: resumed || undefined });
    const early = conn.early;
    conn.early = undefined;
    if (early) for (const item of early) if (!conn.isClosed) opts.handle(conn, item);
  }

  /**
   * A resume read the log past where this room stands (this instance lags: the entries are
   * still on the bus, or held back): the room applies them first, in order, as if filled in
   * from the log — so the resumed client's world here (its own entities included) is the one
   * its replay leads to, and what it sends next is checked against it (not refused NOT_FOUND).
   */
  #catchUp(room: Room, got: LogEntry[]): void {
    const { inOrder } = this.opts;
    for (const e of got) if (e.epoch === room.epoch && e.seq > room.seq) inOrder.accept(room, e.epoch, e.seq, () => inOrder.fill(room, e));
  }

  /**
   * The entries a resuming client missed: those read from the log after its `last_seq` up to
   * where this room stands, completed from the room's recent entries; only those owed to it.
   * `complete` when nothing is missing (then the hello says `resumed: true`). After a new epoch
   * the client gets the new epoch's entries from its start, but not `complete`: what it missed
   * of the old epoch is gone.
   */
  #replay(conn: Connection, room: Room, lastSeq: number, epoch: number | undefined, got: LogEntry[] | null | undefined): { entries: LogEntry[]; complete: boolean; from: number } {
    const sameEpoch = epoch === undefined || epoch === room.epoch;
    const from = sameEpoch ? lastSeq : 0;
    if (got === null || got === undefined) return { entries: [], complete: false, from };
    const entries = got.filter((e) => e.seq > from && e.seq <= room.seq);
    let end = Math.max(from, entries.at(-1)?.seq ?? from);
    for (const e of room.recent) if (e.epoch === room.epoch && e.seq === end + 1 && e.seq <= room.seq) entries.push(e), end++;
    const complete = sameEpoch && end >= room.seq;
    return { entries: entries.filter((e) => owed(e, conn.clientId)), complete, from };
  }
}
