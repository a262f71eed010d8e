/**
 * What a model client is connected through ({@link ClientLink}, {@link Opener}: a simulated or
 * a real socket), what it records ({@link Arrival}, {@link Life}, {@link EntityOp}), and the
 * wire shape the tests assume for the outcome of a reliable message ({@link parseAccept}).
 * @module
 */
import type { Frame } from "../../src/lib/transport.ts";
import type { Envelope } from "../../src/protocol/types.ts";
import type { SimIdentity } from "./sim-node.ts";

/**
 * A client's end of one connection: a simulated one ({@link import("./sim-node.ts").SimConn})
 * or a real WebSocket (test/chaos/real-conn.ts).
 */
export interface ClientLink {
  /** Frames the server sent that the client has not read yet, and the server's close. */
  readonly socket: { read(): Frame[]; readonly wire: Frame[]; readonly closedByServer?: { code: number; reason: string } };
  /** Whether the server still has it open (frames sent now are handled). */
  readonly serverOpen: boolean;
  send(frame: Frame): void;
  /** A deliberate close. */
  close(code?: number): void;
  /** The TCP connection breaks (frames in flight lost); the server notices now or later. */
  drop(noticeNow: boolean): void;
}

/** Where a client connects: an instance (simulated or real). */
export interface Opener {
  open(id: SimIdentity): ClientLink;
}

/** One reliable message as a client got it. */
export interface Arrival {
  epoch: number;
  seq: number;
  id: string;
  type: number;
  /** Client id the message is about (presence) or from (chat). */
  about: string;
  at: number;
  /** A chat's text. */
  text?: string;
  /** What identifies the message whoever stamped its id ({@link keyOf}). */
  key: string;
}

/** A session as the client lived it: from a fresh hello to a deliberate close, expiry or the end of the run. */
export interface Life {
  /** The session id (reliable clients) or a connection-local key (plain clients). */
  key: string;
  reliable: boolean;
  /** Fresh hello's epoch and last_seq: owed = everything after it. */
  startEpoch: number;
  startSeq: number;
  /** Reliable messages passed on to the application (after de-duplication), in order. */
  processed: Arrival[];
  /** Raw arrivals per connection (before de-duplication), for the order check. */
  raw: Arrival[][];
  /** Hellos after the first: resumed or not. */
  resumes: { resumed: boolean; at: number; epoch: number; lastSeq: number; askedSeq: number }[];
  ended?: "deliberate" | "expired";
  startedAt: number;
}

/** An entity op and whether the server refused it (an ERROR naming its message id). */
export interface EntityOp {
  id: string;
  entity: string;
  kind: "spawn" | "update" | "despawn";
  value?: string;
}

/** What a client knows about its connection. */
export type ClientState = "idle" | "connecting" | "connected" | "dropped";

/**
 * The outcome of a reliable message for an acknowledging sender (issue 13, finding 11), as
 * docs/delivery.md specifies it: JSON `{"type":"ACCEPTED",…,"payload":{"ref_message_id":"<its id>","seq":N,"epoch":E}}`,
 * protobuf `Message{type: ACCEPTED (53), accepted: {ref_message_id, seq, epoch}}` (field 80).
 * Decoded frames of that type are handled by the client; this reads one from raw JSON text
 * (for decoders that do not know the type). Returns undefined for anything else.
 */
export function parseAccept(frame: string | Uint8Array): { ref: string; seq: number; epoch: number } | undefined {
  if (typeof frame !== "string" || !frame.includes('"ACCEPTED"')) return undefined;
  try {
    const o = JSON.parse(frame) as { type?: string; payload?: { ref_message_id?: string; seq?: number | string; epoch?: number | string } };
    const p = o.payload;
    if (o.type !== "ACCEPTED" || !p?.ref_message_id) return undefined;
    return { ref: p.ref_message_id, seq: Number(p.seq ?? 0), epoch: Number(p.epoch ?? 0) };
  } catch {
    return undefined;
  }
}

/**
 * What identifies a reliable message a client sent, in whatever form it comes back (the server
 * stamps its own message id): a chat by its text, an entity op by its entity (and value).
 */
export function keyOf(msg: Envelope): string {
  if (msg.chat_message) return `chat:${msg.chat_message.message ?? ""}`;
  if (msg.entity_spawn) return `spawn:${msg.entity_spawn.entity_id ?? ""}`;
  if (msg.entity_update) return `update:${msg.entity_update.entity_id ?? ""}:${componentValue(msg.entity_update.components?.v)}`;
  if (msg.entity_despawn) return `despawn:${msg.entity_despawn.entity_id ?? ""}`;
  return `${msg.type ?? 0}:${msg.message_id ?? ""}`;
}

const componentValue = (v: Uint8Array | string | undefined) => (v === undefined ? "" : typeof v === "string" ? v : new TextDecoder().decode(v));
