/**
 * Frames from other instances: decoded once, their effect replayed on this instance's copy of
 * the room's world (the origin already checked them), then delivered to the members here —
 * reliable ones in room-sequence order (routed by the bus frame's own reliable flag, never by a
 * field a client could write). Control notices close a connection that lost its client id.
 * @module
 */
import type { LogEntry } from "../cluster/types.ts";
import type { Delivery } from "../delivery/deliver.ts";
import { decodeFrame, encodeFrame, FrameKind, outboundOf } from "../delivery/frames.ts";
import type { InOrder } from "../delivery/in-order.ts";
import type { Sequencer } from "../delivery/sequencer.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../log.ts";
import { MessageType, type Envelope, type ModerationEvent } from "../protocol/types.ts";
import type { PoseSink } from "./interest/index.ts";
import type { Room } from "./room.ts";
import { componentText } from "../protocol/components.ts";
import { hold, unhold } from "./holds.ts";
import type { World } from "./world.ts";

/** A notice between instances (the payload of a control frame). */
export interface ControlNotice {
  /** Close connection `conn` of node `node` with `code` (its client id was taken over). */
  replace?: { node: string; conn: string; code: number; reason: string };
}

/**
 * Replays a remote message on the local world copy. Returns the message's kind (its payload's
 * name): protobufjs finds it by scanning the message's keys on every read, so callers reuse this.
 */
export function applyRemote(world: World, msg: Envelope, now: number): Envelope["payload"] {
  const kind = msg.payload;
  switch (kind) {
    case "position_update": {
      const p = msg.position_update!;
      if (world.players.has(p.entity_id!)) world.movePlayer(p.entity_id!, p.position, p.rotation, now);
      else world.updateEntity(p.entity_id!, { position: p.position, rotation: p.rotation }, now);
      break;
    }
    case "entity_spawn": {
      const s = msg.entity_spawn!;
      world.spawn({ id: s.entity_id!, template_id: s.template_id ?? "", owner_id: s.owner_id ?? "", components: { ...s.components } }, now);
      break;
    }
    case "entity_update": {
      const components: Record<string, string> = {};
      for (const [k, v] of Object.entries(msg.entity_update!.components ?? {})) components[k] = componentText(v);
      world.updateEntity(msg.entity_update!.entity_id!, { components }, now);
      break;
    }
    case "entity_despawn":
      world.despawn(msg.entity_despawn!.entity_id!, now);
      break;
    case "presence_event": {
      const ev = msg.presence_event!;
      const id = ev.client_id!;
      // A leave also takes the client's entities (their despawns follow in the log).
      if (msg.type === MessageType.PRESENCE_LEAVE) world.leave(id, now);
      else if (msg.type === MessageType.PRESENCE_JOIN) {
        const p = world.players.get(id);
        // In the log now: no refusal of a join sent from here takes it back (see join.ts, unjoin).
        if (p) p.token = "";
        else world.join({ client_id: id, display_name: ev.data?.display_name, token: "", joined_at: ev.data?.joined_at || now, helloJson: undefined, helloPb: undefined, helloXr: undefined, counted: 0 }, now);
      }
      else if (msg.type === MessageType.PRESENCE_UPDATE) {
        const { host_client_id: _, joined_at: __, ...fields } = ev.data ?? {};
        world.updatePlayer(id, fields, now);
      }
      break;
    }
    // Holds live in the holder's player entry (core/holds.ts).
    case "object_grab":
      hold(world, msg.object_grab!, now);
      break;
    case "object_release":
      unhold(world, msg.object_release!.client_id ?? "", msg.object_release!.entity_id ?? "", now);
      break;
  }
  return kind;
}

/** What {@link Remote} needs. */
export interface RemoteOptions {
  room(id: string): Room | undefined;
  delivery: Delivery;
  sequencer: Sequencer;
  inOrder: InOrder;
  clock: Clock;
  logger: Logger;
  nodeId: string;
  /** Closes local connection `connId` (a control notice). */
  replace(connId: string, code: number, reason: string): void;
  /** Batch mode (core/interest/): remote position updates go here first. */
  poses?: PoseSink;
  /** A MODERATION event reached this instance's copy of the room (core/moderation.ts). */
  moderated(room: Room, ev: ModerationEvent): void;
}

const utf8 = new TextDecoder();
const enc = new TextEncoder();

/** Receives what other instances publish. */
export class Remote {
  constructor(readonly opts: RemoteOptions) {}

  /** The bytes of a control notice for the bus. */
  static notice(n: ControlNotice): Uint8Array {
    return encodeFrame({ reliable: false, kind: FrameKind.Control, sender: "", only: "" }, enc.encode(JSON.stringify(n)));
  }

  /** A frame another instance published to `roomId`. */
  frame = (roomId: string, frame: Uint8Array): void => {
    const room = this.opts.room(roomId);
    if (!room) return;
    if (room.opening) return void room.waiting.push(() => this.frame(roomId, frame));
    let f, out;
    try {
      f = decodeFrame(frame);
      if (f.kind === FrameKind.Typed) out = outboundOf(f.payload);
    } catch {
      return this.opts.logger.warn("bus_frame_invalid", { room: roomId });
    }
    const { delivery, sequencer } = this.opts;
    if (f.kind === FrameKind.RawText) {
      const text = utf8.decode(f.payload);
      return sequencer.ordered(room, () => delivery.deliver(room, text, f));
    }
    if (f.kind === FrameKind.Control) return this.#control(f.payload);
    if (!out) return;
    const msg = out.msg;
    if (f.reliable) {
      const entry: LogEntry = { seq: msg.seq ?? 0, epoch: msg.epoch ?? 0, frame };
      return this.opts.inOrder.accept(room, entry.epoch, entry.seq, () => this.entry(room, entry));
    }
    sequencer.ordered(room, () => {
      const kind = applyRemote(room.world, msg, this.opts.clock.now());
      if (kind === "position_update" && this.opts.poses?.take(room, out)) return;
      delivery.deliver(room, out, f, undefined, msg.position_update?.entity_id);
    });
  };

  /** A reliable entry released in order (from the bus, or filled in from the log). */
  entry = (room: Room, entry: LogEntry): void => {
    let f, out;
    try {
      f = decodeFrame(entry.frame);
      out = outboundOf(f.payload);
    } catch {
      return this.opts.logger.warn("bus_frame_invalid", { room: room.id });
    }
    room.remember(entry);
    if (applyRemote(room.world, out.msg, this.opts.clock.now()) === "moderation") this.opts.moderated(room, out.msg.moderation!);
    this.opts.delivery.deliver(room, out, f);
  };

  #control(payload: Uint8Array): void {
    let n: ControlNotice;
    try {
      n = JSON.parse(utf8.decode(payload)) as ControlNotice;
    } catch {
      return;
    }
    const r = n.replace;
    if (r && r.node === this.opts.nodeId && typeof r.conn === "string") this.opts.replace(r.conn, r.code, r.reason);
  }
}
