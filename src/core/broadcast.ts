/**
 * Sending: every message the server sends goes out through a {@link Broadcaster}, which stamps
 * the server-owned fields (`message_id`, `timestamp`; `seq`/`epoch` come from the room log)
 * and picks the path — reliable through the room log, unreliable straight to the members here
 * and to the other instances over the bus, or to one connection alone.
 * @module
 */
import type { RoomChange } from "../cluster/types.ts";
import type { Delivery } from "../delivery/deliver.ts";
import { encodeFrame, FrameKind, type FrameMeta } from "../delivery/frames.ts";
import type { Sequencer } from "../delivery/sequencer.ts";
import { ErrorCode } from "../errors.ts";
import type { Clock } from "../lib/clock.ts";
import type { MessageIds } from "../lib/ids.ts";
import type { Metrics } from "../observability/metrics.ts";
import { Outbound } from "../protocol/codec.ts";
import { stampPosition } from "../protocol/stamp.ts";
import { stampChat } from "../protocol/stamp-chat.ts";
import { MessageType, type Envelope, type Format } from "../protocol/types.ts";
import type { Connection } from "./connection.ts";
import type { PoseSink } from "./interest/index.ts";
import type { Replication } from "./replication.ts";
import type { Room } from "./room.ts";

/** How a reliable message is broadcast. */
export interface ReliableOptions {
  /** The sender, who never receives its own message. */
  sender?: Connection;
  /** The client's own message id (named in its ACCEPTED and errors). */
  ref?: string;
  /** Only this client id receives it (whispers, errors). */
  only?: string;
  /** The room change that goes with it (atomic with the append). */
  change?: RoomChange;
  /**
   * Runs once the log answered (before local delivery): the entries' first seq (undefined when
   * nothing was appended), what a release removed, and whether the guard refused the change.
   */
  done?(seq: number | undefined, orphans: string[], refused: boolean): void;
  /**
   * Waits in the outbox as long as the log stays away, never given up after OUTBOX_TIMEOUT_MS
   * (a departure: the room must hear it, however late; it is guarded, so a late one is safe).
   */
  patient?: boolean;
  /**
   * Takes back what the handler already applied to this instance's world, when the message
   * reached nobody (refused by the log, or given up after OUTBOX_TIMEOUT_MS) — each field only
   * if nothing changed it since.
   */
  undo?(): void;
  /** The time the message arrived (its server timestamp); default: now. */
  now?: number;
}

/** How an unreliable message is broadcast. */
export interface UnreliableOptions {
  sender?: Connection;
  /** Latest-wins key: a slow recipient keeps only the newest message per key. */
  key?: string;
  /** The position update's entity id the server filled in (written into the stamped bytes). */
  entityStamped?: boolean;
  /** The time the message arrived (its server timestamp); default: now. */
  now?: number;
}

/** What a {@link Broadcaster} needs. */
export interface BroadcasterOptions {
  sequencer: Sequencer;
  delivery: Delivery;
  replication: Replication;
  ids: MessageIds;
  clock: Clock;
  metrics: Metrics;
  /** Batch mode (core/interest/): position updates go here first; taken ones are not relayed one by one. */
  poses?: PoseSink;
  /** The hold of a connection was refused by the log (another connection took its client id): close it. */
  lostHold(conn: Connection): void;
}

const utf8 = new TextEncoder();

/**
 * The routing facts of `sender`'s unreliable broadcasts: made once per connection (again if its
 * client id changed) instead of once per message; nothing downstream changes a meta.
 */
function unreliableMeta(sender: Connection | undefined): FrameMeta {
  if (!sender) return { reliable: false, kind: FrameKind.Typed, sender: "", only: "" };
  let meta = sender.unreliableMeta;
  if (meta?.sender !== sender.clientId) meta = sender.unreliableMeta = { reliable: false, kind: FrameKind.Typed, sender: sender.clientId, only: "" };
  return meta;
}

/** Stamps and sends. */
export class Broadcaster {
  constructor(readonly opts: BroadcasterOptions) {}

  /** Sets the server's `message_id` and `timestamp` (`now`: the handler's clock reading, so the clock is read once per message). */
  #stamp(msg: Envelope, now = this.opts.clock.now()): void {
    msg.message_id = this.opts.ids.next();
    msg.timestamp = now;
  }

  /**
   * A reliable message: sequenced through the room log and delivered to every member (here
   * after the log answered). A client's message is guarded by its hold on its client id; an
   * acknowledging sender learns its seq (ACCEPTED) or that it reached nobody (NOT_DELIVERED).
   */
  reliable(room: Room, msg: Envelope, opts: ReliableOptions = {}): void {
    this.#stamp(msg, opts.now);
    const sender = opts.sender;
    const meta: FrameMeta = { reliable: true, kind: FrameKind.Typed, sender: sender?.clientId ?? "", only: opts.only ?? "" };
    let change = opts.change;
    if (sender && !change?.guard) change = { ...change, guard: { clientId: sender.clientId, token: sender.token } };
    // A binary chat is stamped into the client's bytes (stamp-chat.ts), anything else encoded:
    // the one protobuf encode (log entries carry it).
    const stamped = msg.raw && msg.payload === "chat_message" ? stampChat(msg.raw, msg) : undefined;
    const out = stamped ? Outbound.stamped(msg, stamped) : new Outbound(msg);
    this.opts.sequencer.append(room, {
      frames: [encodeFrame(meta, out.protobuf())],
      msgs: [msg],
      metas: [meta],
      change,
      sender,
      deadline: opts.patient ? Infinity : undefined,
      done: (r) => {
        if (!r) {
          opts.undo?.();
          if (sender && !sender.isClosed) this.opts.lostHold(sender);
          return opts.done?.(undefined, [], true);
        }
        const e = r.entries[0];
        if (sender?.reliable && e && opts.ref) {
          this.#outcome(room, sender, { type: MessageType.ACCEPTED, payload: "accepted", accepted: { ref_message_id: opts.ref, seq: e.seq, epoch: e.epoch } });
        }
        opts.done?.(e?.seq, r.orphans, false);
      },
      failed: (err) => {
        opts.undo?.();
        if (!sender || !opts.ref) return;
        const error = { code: ErrorCode.NOT_DELIVERED, message: `Not delivered: ${err.message}; resend it`, ref_message_id: opts.ref };
        if (!sender.reliable) return void (!sender.isClosed && this.error(sender, error.code, error.message, error.ref_message_id));
        this.opts.metrics.countError(error.code);
        this.#outcome(room, sender, { type: MessageType.ERROR, payload: "error", error });
      },
    });
  }

  /**
   * Tells a reliable sender the outcome of its message (ACCEPTED, or ERROR NOT_DELIVERED): on its
   * connection, or — when that one dropped meanwhile — on the connection that resumed its session
   * here; else it is kept for a resume here (bounded, see {@link Room.outcomes}).
   */
  #outcome(room: Room, sender: Connection, msg: Envelope): void {
    const live = sender.isClosed ? room.members.holder(sender.clientId) : sender;
    if (live && !live.isClosed && live.session === sender.session) return this.send(live, msg);
    if (sender.session) room.keepOutcome(sender.session, msg);
  }

  /** An unreliable message (positions, voice): to the members here and over the bus, never retried. */
  unreliable(room: Room, msg: Envelope, opts: UnreliableOptions = {}): void {
    this.#unreliable(room, msg, opts.sender, opts.key, opts.entityStamped === true, opts.now);
  }

  /** A position update: {@link unreliable} with its options as arguments (the hot path: no object for them). */
  position(room: Room, msg: Envelope, sender: Connection, key: string, entityStamped: boolean, now: number): void {
    this.#unreliable(room, msg, sender, key, entityStamped, now);
  }

  #unreliable(room: Room, msg: Envelope, sender: Connection | undefined, key: string | undefined, entityStamped: boolean, now: number | undefined): void {
    this.#stamp(msg, now);
    const meta = unreliableMeta(sender);
    // A binary position update is stamped into the client's bytes, not re-encoded (the hot path).
    const stamped = msg.raw && msg.payload === "position_update"
      ? stampPosition(msg.raw, msg.message_id!, msg.timestamp!, entityStamped ? msg.position_update!.entity_id : undefined, this.opts.ids)
      : undefined;
    const out = stamped ? Outbound.stamped(msg, stamped) : new Outbound(msg);
    const { replication, delivery, sequencer } = this.opts;
    if (replication.shared) replication.publish(room.id, encodeFrame(meta, out.protobuf()));
    if (msg.payload === "position_update" && this.opts.poses?.take(room, out)) return;
    // Nothing reliable is pending in the room (the usual case): delivered now, with no closure to wait.
    if (sequencer.idle(room)) delivery.deliver(room, out, meta, sender, key);
    else sequencer.ordered(room, () => delivery.deliver(room, out, meta, sender, key));
  }

  /** Text that is not a typed message: relayed as is, here and on the other instances. */
  raw(conn: Connection, text: string): void {
    const room = conn.room as Room;
    const meta: FrameMeta = { reliable: false, kind: FrameKind.RawText, sender: conn.clientId, only: "" };
    if (this.opts.replication.shared) this.opts.replication.publish(room.id, encodeFrame(meta, utf8.encode(text)));
    this.opts.sequencer.ordered(room, () => this.opts.delivery.deliver(room, text, meta, conn));
  }

  /** One message to one connection, in `format` (default: its own), unsequenced. */
  send(conn: Connection, msg: Envelope, format: Format = conn.format): void {
    this.#stamp(msg);
    this.opts.delivery.sendTo(conn, new Outbound(msg), undefined, format);
  }

  /**
   * Tells `conn` that one of its messages was refused; the connection stays up. Reliable (in
   * the room log, whispered) for acknowledging clients that are members.
   */
  error(conn: Connection, code: string, message: string, ref?: string, extra: { retry_after_ms?: number; close_code?: number } = {}): void {
    this.opts.metrics.countError(code);
    const msg: Envelope = { type: MessageType.ERROR, payload: "error", error: { code, message, ref_message_id: ref ?? "", ...extra } };
    if (conn.reliable && conn.joined && code !== ErrorCode.NOT_DELIVERED) this.reliable(conn.room as Room, msg, { only: conn.clientId });
    else this.send(conn, msg);
  }

  /**
   * Closes `conn` for a reason of ours: first an ERROR frame carrying the same code and reason
   * (so clients that cannot read close frames still learn why), then the close itself. The
   * frame goes straight to the socket: the connection is ending, nothing is queued or resent.
   */
  closeWith(conn: Connection, closeCode: number, errorCode: string, message: string): void {
    if (conn.isClosed) return;
    this.opts.metrics.countError(errorCode);
    const msg: Envelope = { type: MessageType.ERROR, payload: "error", error: { code: errorCode, message, close_code: closeCode } };
    this.#stamp(msg);
    conn.transport.send(new Outbound(msg).frame(conn.format));
    conn.close(closeCode, message.slice(0, 120));
  }
}
