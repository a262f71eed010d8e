/**
 * What delivery needs of a connection and of a room: a {@link Recipient} (a socket with a
 * format, a send queue while slow, and acknowledgement state) and a {@link RoomChannel} (the
 * room's fan-out topics, its slow members and where its reliable sequence stands). The core's
 * connection and room are these, plus everything else they hold.
 * @module
 */
import type { LogEntry } from "../cluster/types.ts";
import type { SendQueue } from "../lib/send-queue.ts";
import type { Transport } from "../lib/transport.ts";
import { FORMATS, type Format } from "../protocol/types.ts";
import { Members } from "./members.ts";
import type { AppendRequest } from "./sequencer.ts";

/** Reliable entries each room keeps of what it delivered (see {@link RoomChannel.recent}). */
export const RECENT_ENTRIES = 256;

/** One connection, as delivery sees it. */
export interface Recipient {
  readonly transport: Transport;
  readonly format: Format;
  /** The client id (whispers and errors are addressed to it; its own messages never come back). */
  clientId: string;
  /** The room it is a member of. */
  room: RoomChannel;
  /** Set once the socket has closed; nothing is sent after that. */
  isClosed: boolean;
  /** The send queue while this connection is slow (or catching up after a resume). */
  queue?: SendQueue;
  /** Acknowledged delivery (`?ack=1`): resends, a resumable session. */
  reliable: boolean;
  /** Highest acknowledged seq (of `ackEpoch`). */
  acked: number;
  ackEpoch: number;
  /** Resends so far for the current unacknowledged run, and when the next is due (0: none). */
  retries: number;
  nextRetryAt: number;
}

/**
 * The delivery side of a room: one fan-out topic per format (a broadcast is encoded once per
 * format), the members served from their queue instead, and the room's reliable sequence.
 */
export class RoomChannel<R extends Recipient = Recipient> {
  /** Its members; `members.holder(id)` finds a message's sender when only its client id is known. */
  readonly members = new Members<R>();
  /** Members currently served from their send queue instead of the topic. */
  readonly slow = new Set<R>();
  /** Fan-out topic per format. */
  readonly topics: Readonly<Record<Format, string>>;
  /** Members subscribed to each topic (members minus the slow ones). */
  readonly subscribed: Record<Format, number>;
  /** The room log's epoch, and the seq of the last reliable entry delivered here (the cursor). */
  epoch = 0;
  seq = 0;
  /**
   * The log position the room's state was loaded at when it opened here (cluster): entries up to
   * it are part of that state and were never delivered here. Unset until the load answered.
   */
  loadedAt?: { epoch: number; seq: number };
  /** Epochs this room has left behind (their late entries are dropped). */
  readonly pastEpochs = new Set<number>();
  /** Reliable entries that arrived before an earlier one, by seq (see in-order.ts). */
  readonly early = new Map<number, () => void>();
  gapTimer?: unknown;
  /** The log's head as last read, when it was ahead of `seq` (see InOrder.catchUp); 0 when not. */
  behind = 0;
  /** Local deliveries waiting behind reliable messages the room log has not answered yet. */
  readonly deferred: { run?: () => void }[] = [];
  /** Reliable messages waiting for the room log to come back (see sequencer.ts). */
  readonly outbox: AppendRequest[] = [];
  /** The last reliable entries delivered here, oldest first (a resume's replay ends with them). */
  readonly recent: LogEntry[] = [];
  /** A channel of a room not open here (an append made for it reaches nobody here). */
  ephemeral = false;
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  lastActivity: number;

  /** Makes `m` a member. */
  admit(m: R): void {
    this.members.add(m);
  }

  /** Removes `m`; false when it was not a member. */
  remove(m: R): boolean {
    return this.members.delete(m);
  }

  /** Keeps `entry` among the last {@link RECENT_ENTRIES} delivered here. */
  remember(entry: LogEntry): void {
    if (this.recent.push(entry) > RECENT_ENTRIES) this.recent.shift();
  }

  constructor(readonly id: string, now: number) {
    const topics = {} as Record<Format, string>;
    const subscribed = {} as Record<Format, number>;
    for (const f of FORMATS) {
      topics[f] = `room:${id}:${f}`;
      subscribed[f] = 0;
    }
    this.topics = topics;
    this.subscribed = subscribed;
    this.lastActivity = now;
  }
}
