/**
 * What a model client is connected through ({@link ClientLink}, {@link Opener}: a simulated or
 * a real socket), what it records ({@link Arrival}, {@link Life}, {@link EntityOp}), and the
 * wire shape the tests assume for the outcome of a reliable message ({@link parseAccept}).
 * @module
 */
import type { Frame } from "../../src/core/transport.ts";
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
 * The outcome of a reliable message, as the tests assume the server will tell an acknowledging
 * sender (issue 13, finding 11) — JSON:
 * `{"type":"ACCEPT","message_id":"<server id>","timestamp":<ms>,"payload":{"ref_message_id":"<the sender's message_id>","seq":<room seq>,"epoch":<room epoch>}}`;
 * protobuf: `MessageType.ACCEPT = 53`, `Message.accept = 65` of
 * `message Accept { string ref_message_id = 1; uint64 seq = 2; uint32 epoch = 3; }`. The
 * envelope's own `seq`/`epoch` stay 0: an ACCEPT is not a room entry (not resent, not replayed,
 * not fed to the de-duplication). Returns the ACCEPT in a JSON text frame, or undefined.
 */
export function parseAccept(frame: string | Uint8Array): { ref: string; seq: number; epoch: number } | undefined {
  if (typeof frame !== "string" || !frame.includes('"ACCEPT"')) return undefined;
  try {
    const o = JSON.parse(frame) as { type?: string; payload?: { ref_message_id?: string; seq?: number | string; epoch?: number | string } };
    if (o.type !== "ACCEPT" || !o.payload?.ref_message_id) return undefined;
    return { ref: o.payload.ref_message_id, seq: Number(o.payload.seq ?? 0), epoch: Number(o.payload.epoch ?? 0) };
  } catch {
    return undefined;
  }
}
