import type { Connection } from "./connection.ts";
import { World } from "./world.ts";

/** Output format of a connection: what it receives typed messages as. */
export type Format = "json" | "protobuf";

/**
 * One room on this instance: its local members and counters. A room has one fan-out topic
 * per format, so a broadcast is encoded once per format and published natively.
 */
export class Room {
  readonly members = new Set<Connection>();
  /** Players and entities: what a late joiner is told. */
  readonly world = new World();
  /** Fan-out topic of the room's JSON members. */
  readonly topicJson: string;
  /** Fan-out topic of the room's protobuf members. */
  readonly topicProtobuf: string;
  jsonMembers = 0;
  protobufMembers = 0;
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  lastActivity: number;

  constructor(readonly id: string, now: number) {
    this.topicJson = `room:${id}:json`;
    this.topicProtobuf = `room:${id}:pb`;
    this.lastActivity = now;
  }

  /** The topic members of `format` are subscribed to. */
  topic(format: Format): string {
    return format === "json" ? this.topicJson : this.topicProtobuf;
  }

  add(conn: Connection): void {
    this.members.add(conn);
    if (conn.format === "json") this.jsonMembers++;
    else this.protobufMembers++;
  }

  remove(conn: Connection): boolean {
    if (!this.members.delete(conn)) return false;
    if (conn.format === "json") this.jsonMembers--;
    else this.protobufMembers--;
    return true;
  }
}
