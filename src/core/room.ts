import type { Format } from "../protocol/types.ts";
import type { Connection } from "./connection.ts";
import type { Fanout } from "./transport.ts";
import { World } from "./world.ts";

/** Output format of a connection: what it receives typed messages as (compat, issue 15: + "xr"). */
export type { Format } from "../protocol/types.ts";

/**
 * One room on this instance: its local members and counters. A room has one fan-out topic
 * per format, so a broadcast is encoded once per format and published natively; members that
 * fall behind leave the topic for a JavaScript queue (`slow`) until they catch up.
 */
export class Room {
  readonly members = new Set<Connection>();
  /** Members currently served from their send queue instead of the topic. */
  readonly slow = new Set<Connection>();
  /** Players and entities: what a late joiner is told. */
  readonly world = new World();
  /** Fan-out topic of the room's JSON members. */
  readonly topicJson: string;
  /** Fan-out topic of the room's protobuf members. */
  readonly topicProtobuf: string;
  /** Fan-out topic of the room's xr members (GraphWiz-XR's frames; compat, issue 15). */
  readonly topicXr: string;
  /** Members subscribed to each topic (members minus the slow ones). */
  subscribedJson = 0;
  subscribedProtobuf = 0;
  subscribedXr = 0;
  /** Members with acknowledged delivery (their messages need the room log). */
  reliable = 0;
  /** Detached reliable sessions that may still resume here (the room stays while any do). */
  ghosts = 0;
  /** Connections on their way in (waiting for the room's shared state or their session). */
  joining = 0;
  /** Reliable entries that arrived before an earlier one, by seq (see delivery/in-order.ts). */
  readonly early = new Map<number, () => void>();
  gapTimer?: unknown;
  /** Local deliveries waiting behind reliable messages the room log has not answered yet (Redis). */
  readonly deferred: { run?: () => void }[] = [];
  /** Set while the cluster loads the room's shared state. */
  opening?: Promise<void>;
  /** The room log's epoch, and the seq of the last reliable message delivered here. */
  epoch = 0;
  seq = 0;
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  lastActivity: number;

  constructor(readonly id: string, now: number) {
    this.topicJson = `room:${id}:json`;
    this.topicProtobuf = `room:${id}:pb`;
    this.topicXr = `room:${id}:xr`;
    this.lastActivity = now;
  }

  /** The topic members of `format` are subscribed to. */
  topic(format: Format): string {
    return format === "json" ? this.topicJson : format === "protobuf" ? this.topicProtobuf : this.topicXr;
  }

  /** Puts `conn` on its format's topic. */
  subscribe(conn: Connection, fanout: Fanout): void {
    fanout.subscribe(conn.transport, this.topic(conn.format));
    if (conn.format === "json") this.subscribedJson++;
    else if (conn.format === "protobuf") this.subscribedProtobuf++;
    else this.subscribedXr++;
  }

  /** Takes `conn` off its topic. */
  unsubscribe(conn: Connection, fanout: Fanout): void {
    fanout.unsubscribe(conn.transport, this.topic(conn.format));
    if (conn.format === "json") this.subscribedJson--;
    else if (conn.format === "protobuf") this.subscribedProtobuf--;
    else this.subscribedXr--;
  }

  /** Whether nothing keeps the room alive: no members, no resumable sessions. */
  get empty(): boolean {
    return this.members.size === 0 && this.ghosts === 0 && this.joining === 0;
  }
}
