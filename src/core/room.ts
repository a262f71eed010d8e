/**
 * One room on this instance: its delivery channel (members, topics, reliable sequence — see
 * delivery/recipient.ts), its copy of the room's world, and what keeps it open here.
 * @module
 */
import { RoomChannel } from "../delivery/recipient.ts";
import type { Envelope } from "../protocol/types.ts";
import type { Connection } from "./connection.ts";
import { World, type WorldLimits } from "./world.ts";

/** One room on this instance. */
export class Room extends RoomChannel<Connection> {
  /** Players and entities: what a late joiner is told. */
  readonly world: World;
  /** Set while the room's shared state loads (cluster); joins wait for it. */
  opening?: Promise<void>;
  /** Remote entries that arrived while the room was opening (run once it is open, in order). */
  readonly waiting: (() => void)[] = [];
  /** Connections on their way in (waiting for the room's state or their claim). */
  joining = 0;
  /**
   * Clients whose session detached here and may still resume (client id → their session and
   * when the window closes): the room stays open for them, so their player stays in this
   * instance's world.
   */
  readonly ghosts = new Map<string, { token: string; conn: string; until: number }>();

  constructor(id: string, now: number, limits: WorldLimits) {
    super(id, now);
    this.world = new World(limits);
  }

  /**
   * Outcomes (ACCEPTED / NOT_DELIVERED) of messages whose sender's connection dropped before the
   * log answered, kept for a resume of its session here (made on first use; the last 256).
   */
  outcomes?: { session: string; msg: Envelope }[];

  /** Keeps an outcome for a resume of `session` here. */
  keepOutcome(session: string, msg: Envelope): void {
    if ((this.outcomes ??= []).push({ session, msg }) > 256) this.outcomes.shift();
  }

  /** Takes the outcomes kept for `session`. */
  takeOutcomes(session: string): Envelope[] {
    if (!this.outcomes) return [];
    const mine = this.outcomes.filter((o) => o.session === session).map((o) => o.msg);
    this.outcomes = this.outcomes.filter((o) => o.session !== session);
    return mine;
  }

  /** Whether nothing keeps the room open here: no members, nobody joining, no resumable session. */
  get empty(): boolean {
    return this.members.size === 0 && this.joining === 0 && this.ghosts.size === 0;
  }
}
