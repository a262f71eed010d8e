/**
 * The seam between the runtime-neutral core and a runtime adapter.
 *
 * The core decides *what* goes to whom; an adapter decides *how* bytes reach a socket.
 * An adapter gives the core one {@link Transport} per socket (write + close, created once at
 * open and kept with the raw socket) and one {@link Fanout} for the whole server; the core
 * hands back one {@link ConnectionHandle} per socket for the adapter to call on events.
 * @module
 */

/** A WebSocket frame: a string is sent as a text frame, bytes as a binary frame. */
export type Frame = string | Uint8Array;

/** What became of a frame handed to {@link Transport.send}. */
export const SendResult = {
  /** Written to the kernel (or the runtime's socket buffer, which was empty). */
  Sent: 1,
  /** Accepted but buffered behind earlier data: the peer is not keeping up. */
  Queued: 0,
  /** Not accepted (socket closing or past the runtime's own limit). */
  Dropped: -1,
} as const;
/** One of the {@link SendResult} values. */
export type SendResult = (typeof SendResult)[keyof typeof SendResult];

/** One socket as the core sees it. */
export interface Transport {
  /** Sends one frame and says whether it was sent, queued or dropped. */
  send(frame: Frame): SendResult;
  /** Bytes accepted but not yet written to the network, read live from the runtime. */
  bufferedAmount(): number;
  /** Closes with a WebSocket close code and a short reason (≤ 123 bytes). */
  close(code: number, reason: string): void;
  /** Sends a protocol-level ping; absent where the runtime cannot. */
  ping?(): void;
  /** Called once with the connection's handle, for adapters that route socket events (pong) to it. */
  attach?(handle: ConnectionHandle): void;
}

/** The per-connection callbacks an adapter invokes. */
export interface ConnectionHandle {
  /** A whole frame arrived (text as string, binary as bytes). */
  message(data: Frame): void;
  /** The socket's send buffer emptied after it had been full. */
  drain(): void;
  /** The socket closed, for whatever reason; called once. */
  closed(code: number, reason: string): void;
  /** A pong answered the server's ping. */
  pong(): void;
}

/**
 * Topic-based fan-out over the adapter's sockets. On Bun this is the native topic publish;
 * elsewhere {@link import("./loop-fanout.ts").LoopFanout} loops in JavaScript. Encoding happens
 * once, before `publish`; a fan-out never re-encodes per recipient.
 */
export interface Fanout {
  subscribe(transport: Transport, topic: string): void;
  unsubscribe(transport: Transport, topic: string): void;
  /** Sends `frame` to every subscriber of `topic` except `except` (when given). */
  publish(topic: string, frame: Frame, except?: Transport): void;
}
