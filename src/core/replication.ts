/**
 * Whether rooms are shared with other instances is decided once, at start-up, by choosing one
 * {@link Replication}: {@link LocalReplication} for a lone instance (nothing to load, publish or
 * store) or {@link SharedReplication} (replication-shared.ts) when instances share a cluster
 * backend. Nothing else asks.
 * @module
 */
import type { MemberInfo, NodeInfo, RoomChange, RoomLog } from "../cluster/types.ts";
import type { Maybe } from "../lib/maybe.ts";
import type { PlayerSnapshot } from "../protocol/types.ts";
import type { Connection } from "./connection.ts";
import type { Room } from "./room.ts";
import type { Entity, Player } from "./world.ts";

/** How this instance shares its rooms. */
export interface Replication {
  readonly nodeId: string;
  /** Whether other instances may listen (false: nothing published reaches anyone, so bus bytes need not be built). */
  readonly shared: boolean;
  /** A room opens here: position it in its log and load its shared state (a promise while loading). */
  open(room: Room): Maybe<void>;
  /** The room closed here (its last member left). */
  close(room: Room): void;
  /** A member joined or left here (the cluster's member list). */
  joined(conn: Connection): void;
  left(conn: Connection): void;
  /** Sends an unsequenced frame to the room's members on the other instances. */
  publish(roomId: string, frame: Uint8Array): void;
  /** The room change that stores these players' state (nothing when no one else reads it). */
  players(players: Player[]): RoomChange["players"];
  /**
   * How a join or leave announcement is conditioned on the shared store (`RoomChange.presence`):
   * shared rooms let the store decide, so a join is announced once however many instances
   * think the client new; undefined for a lone instance, whose world is the whole truth.
   */
  presence(kind: "join" | "leave"): RoomChange["presence"];
  /** The room change that stores these entities' state. */
  entities(entities: Entity[]): RoomChange["entities"];
  /** A player's or entity's pose changed here (written to the store now and then). */
  pose(room: Room, kind: "player" | "entity", id: string): void;
  /** The periodic pass (pose writes; heartbeats and reaping run on their own timer). */
  flush(now: number): void;
  /** Every member of the room on the other instances (none when alone). */
  remoteMembers(roomId: string): Promise<MemberInfo[]>;
  /** The live instances, or undefined when alone. */
  nodes(): Promise<NodeInfo[] | undefined>;
  /** The players the cluster stores for a room not open here (none when alone). */
  storedPlayers(roomId: string): Promise<PlayerSnapshot[]>;
  /** Why the cluster is not usable now, or undefined. */
  notReady(): string | undefined;
  /**
   * Whether the shared store may take appends now: false while it is unreachable and until this
   * instance has put back what the store lost meanwhile (reliable messages wait in the outbox).
   */
  synced(): boolean;
  start(): void;
  stop(): void;
}

/** A lone instance: its memory log is the whole truth; nothing is shared. */
export class LocalReplication implements Replication {
  readonly shared = false;
  constructor(readonly nodeId: string, readonly log: RoomLog) {}

  open(room: Room): void {
    const head = this.log.head(room.id) as { epoch: number; seq: number };
    room.epoch = head.epoch;
    room.seq = head.seq;
  }
  close(): void {}
  joined(): void {}
  left(): void {}
  publish(): void {}
  players(): undefined {
    return undefined;
  }
  entities(): undefined {
    return undefined;
  }
  presence(): undefined {
    return undefined;
  }
  pose(): void {}
  flush(): void {}
  async remoteMembers(): Promise<MemberInfo[]> {
    return [];
  }
  async nodes(): Promise<undefined> {
    return undefined;
  }
  async storedPlayers(): Promise<PlayerSnapshot[]> {
    return [];
  }
  notReady(): undefined {
    return undefined;
  }
  synced(): boolean {
    return true;
  }
  start(): void {}
  stop(): void {}
}
