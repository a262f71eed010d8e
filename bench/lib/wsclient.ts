/**
 * A minimal WebSocket client on raw TCP (`Bun.connect`) for the load generator.
 *
 * Why not the `WebSocket` class: at millions of frames a second the load generator, not the
 * server, would be measured. Here one `data` callback handles every frame of a TCP read in a
 * tight loop: no event object, no string or buffer per frame (frames split across reads are the
 * only copy). Client frames use the all-zero mask key (legal; payload bytes unchanged), so a
 * prebuilt frame is patched in place and written as is; many frames go out in one `write`.
 *
 * Speaks three dialects: graphwiz-ws (ready at the first frame, the JSON SERVER_HELLO), raw
 * baselines (ready at `101`), and Socket.IO 4 over the websocket transport (Engine.IO v4
 * open/ping, namespace connect with `auth`, binary events as a text header + attachment).
 * This file: the connection (upgrade, frame parsing, writes and backpressure). Frame building:
 * wsframe.ts; the dialects' text-frame handshakes: wsdialect.ts; opening many at once: wsopen.ts.
 * @module
 */
import type { Socket, SocketHandler } from "bun";
import { ackMessage, envelope, readEnvelopeSeq, SERVER_ERROR, scanSeq } from "./pb.ts";
import { dialectText } from "./wsdialect.ts";
import { clientFrame, concat, indexOf, latin1 } from "./wsframe.ts";

export type Dialect = "gw" | "raw" | "sio";

/** Where received benchmark messages go. */
export interface Sink {
  /** Message `idx` arrived on `c`; `now` is `performance.now()` taken once per TCP read. */
  onSeq(c: WsConn, idx: number, now: number): void;
  /** Called after each TCP read's frames were handled (batch work goes here). */
  afterRead?(): void;
  /**
   * Every binary frame, before the benchmark-seq scan (optional; payload `b[p, p + len)`, valid
   * only during the call). Returning true skips the scan (bigroom reads POSE_BATCH frames).
   */
  onFrame?(c: WsConn, b: Uint8Array, p: number, len: number, now: number): boolean;
  /** A socket's pending output was flushed (optional). */
  onDrain?(c: WsConn): void;
}

const CONNECTING = 0;
const UPGRADING = 1;
const OPEN = 2;
const READY = 3;
const CLOSED = 4;

const HEAD_END = new TextEncoder().encode("\r\n\r\n");

/** One client connection. */
export class WsConn {
  sock?: Socket<WsConn>;
  state = CONNECTING;
  /** `performance.now()` when connecting started / when the connection became ready. */
  tStart = 0;
  tReady = 0;
  error = "";
  closeCode = 0;
  /** Benchmark messages received; highest index received (for gap detection). */
  received = 0;
  lastIdx = -1;
  serverErrors = 0;
  textFrames = 0;
  /** Free for the driver (room number, role…). */
  group = 0;
  /** Acknowledge like the SDK: an ACK of the latest room sequence after every this many sequenced frames (0: never). */
  ackEvery = 0;
  #unacked = 0;
  #head: Uint8Array | null = null;
  #rest: Uint8Array | null = null;
  #pending: Uint8Array | null = null;
  /** Socket.IO: binary attachments still expected for the current event (set by wsdialect.ts). */
  sioAttach = 0;
  #request: string;
  #resolve!: () => void;
  #reject!: (e: Error) => void;
  /** Settles when the connection is ready (or failed). Never rejects unhandled. */
  readonly ready: Promise<void>;

  constructor(
    readonly sink: Sink,
    readonly dialect: Dialect,
    readonly port: number,
    path: string,
    /** Socket.IO: the `auth` object's token. */
    readonly token = "",
  ) {
    this.#request =
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    this.ready = new Promise<void>((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
    this.ready.catch(() => {});
  }

  get isReady(): boolean {
    return this.state === READY;
  }
  get isClosed(): boolean {
    return this.state === CLOSED;
  }
  /** Upgraded (`101`), but the dialect's handshake has not made the connection ready yet. */
  get inHandshake(): boolean {
    return this.state === OPEN;
  }

  /** Starts connecting. */
  connect(): Promise<void> {
    this.tStart = performance.now();
    Bun.connect<WsConn>({ hostname: "127.0.0.1", port: this.port, data: this, socket: HANDLERS }).catch((e) =>
      this.fail(`connect: ${(e as Error).message}`));
    return this.ready;
  }

  /** Writes bytes; whatever the kernel does not take now is copied and sent on drain. */
  write(b: Uint8Array, off = 0, len = b.length - off): void {
    const s = this.sock;
    if (!s || this.state === CLOSED) return;
    if (this.#pending) {
      const merged = new Uint8Array(this.#pending.length + len);
      merged.set(this.#pending);
      merged.set(b.subarray(off, off + len), this.#pending.length);
      this.#pending = merged;
      return;
    }
    const n = s.write(b, off, len);
    if (n < 0) return;
    if (n < len) this.#pending = b.slice(off + n, off + len);
  }

  /** True while output is waiting for the socket to drain. */
  get backlogged(): boolean {
    return this.#pending !== null;
  }

  sendText(s: string): void {
    this.write(clientFrame(1, s));
  }

  /** Sends a close frame and ends the socket. */
  close(): void {
    if (this.state === CLOSED || !this.sock) return;
    this.write(clientFrame(8, new Uint8Array([0x03, 0xe8])));
    this.sock.end();
  }

  /** Hard close (RST), for fast teardown of many sockets. */
  terminate(): void {
    if (this.sock && this.state !== CLOSED) this.sock.terminate();
  }

  fail(reason: string): void {
    if (!this.error) this.error = reason;
    if (this.state !== READY && this.state !== CLOSED) this.#reject(new Error(reason));
    if (this.state !== CLOSED) {
      this.state = CLOSED;
      try {
        this.sock?.end();
      } catch {}
    }
  }

  /** The dialect's handshake is done: the connection is ready (once). */
  markReady(): void {
    if (this.state === READY || this.state === CLOSED) return;
    this.state = READY;
    this.tReady = performance.now();
    this.#resolve();
  }

  // ---- socket events ----

  onOpen(s: Socket<WsConn>): void {
    this.sock = s;
    this.state = UPGRADING;
    s.setNoDelay(true);
    s.write(this.#request);
  }

  onData(buf: Uint8Array): void {
    if (this.state === UPGRADING) {
      const head = this.#head ? concat(this.#head, buf) : buf;
      const end = indexOf(head, HEAD_END);
      if (end < 0) {
        this.#head = head.slice();
        if (head.length > 16384) this.fail("upgrade response too long");
        return;
      }
      this.#head = null;
      const status = latin1(head, 0, Math.min(end, 64)).split("\r\n")[0];
      if (!/^HTTP\/1\.1 101/.test(status)) {
        this.fail(`${status} ${latin1(head, end + 4, end + 300)}`.trim());
        return;
      }
      this.state = OPEN;
      if (this.dialect === "raw") this.markReady();
      if (end + 4 >= head.length) return;
      buf = head.subarray(end + 4);
    }
    if (this.state === CLOSED) return;
    this.#frames(buf, performance.now());
    this.sink.afterRead?.();
  }

  onDrain(): void {
    const p = this.#pending;
    if (p && this.sock) {
      const n = this.sock.write(p);
      if (n < 0) return;
      this.#pending = n < p.length ? p.subarray(n) : null;
    }
    if (!this.#pending) this.sink.onDrain?.(this);
  }

  onClose(reason: string): void {
    if (this.state === CLOSED) return;
    if (this.state !== READY) this.fail(reason || `closed before ready (code ${this.closeCode})`);
    this.state = CLOSED;
  }

  #frames(buf: Uint8Array, now: number): void {
    let b = buf;
    if (this.#rest) {
      b = concat(this.#rest, buf);
      this.#rest = null;
    }
    const n = b.length;
    let off = 0;
    while (off + 2 <= n) {
      const b0 = b[off];
      const b1 = b[off + 1];
      let len = b1 & 127;
      let h = 2;
      if (len === 126) {
        if (off + 4 > n) break;
        len = (b[off + 2] << 8) | b[off + 3];
        h = 4;
      } else if (len === 127) {
        if (off + 10 > n) break;
        len = b[off + 6] * 16777216 + ((b[off + 7] << 16) | (b[off + 8] << 8) | b[off + 9]);
        h = 10;
      }
      if (b1 & 0x80) h += 4; // servers never mask; tolerate it anyway (payload then unreadable)
      if (off + h + len > n) break;
      const p = off + h;
      const op = b0 & 15;
      if (op === 2) this.#binary(b, p, len, now);
      else if (op === 1) dialectText(this, b, p, len);
      else if (op === 9) this.write(clientFrame(10, b.slice(p, p + len)));
      else if (op === 8) {
        this.closeCode = len >= 2 ? (b[p] << 8) | b[p + 1] : 1005;
        const reason = len > 2 ? latin1(b, p + 2, p + len) : "";
        if (this.state !== READY) this.fail(`closed by server before ready: ${this.closeCode} ${reason}`.trim());
        else if (!this.error) this.error = `closed by server: ${this.closeCode} ${reason}`.trim();
        this.state = CLOSED;
        this.sock?.end();
        return;
      }
      off = p + len;
    }
    if (off < n) this.#rest = b.slice(off);
  }

  #binary(b: Uint8Array, p: number, len: number, now: number): void {
    if (this.dialect === "sio") {
      if (this.sioAttach === 0) return;
      this.sioAttach--;
    }
    if (this.sink.onFrame?.(this, b, p, len, now)) return;
    if (this.ackEvery) {
      readEnvelopeSeq(b, p, p + len);
      if (envelope.seq > 0 && ++this.#unacked >= this.ackEvery) {
        this.#unacked = 0;
        this.write(clientFrame(2, ackMessage(envelope.seq, envelope.epoch)));
      }
    }
    const idx = scanSeq(b, p, p + len);
    if (idx >= 0) {
      this.received++;
      this.sink.onSeq(this, idx, now);
    } else if (idx === SERVER_ERROR) this.serverErrors++;
  }
}

const HANDLERS: SocketHandler<WsConn> = {
  binaryType: "uint8array",
  open: (s) => s.data.onOpen(s),
  data: (s, d) => s.data.onData(d as Uint8Array),
  drain: (s) => s.data.onDrain(),
  close: (s, err) => s.data.onClose(err ? err.message : ""),
  end: (s) => s.data.onClose("ended by server"),
  error: (s, err) => s.data.fail(`socket error: ${err.message}`),
  connectError: (s, err) => s.data.fail(`connect: ${err.message}`),
};
