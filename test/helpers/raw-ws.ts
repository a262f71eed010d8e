/**
 * A bare-bones WebSocket client over a plain TCP socket, for what browsers' WebSocket cannot do:
 * ignore pings, send hand-made frames (fragments, bad opcodes), read the HTTP status of a
 * refused upgrade, and see every frame including close frames.
 */
import { connect, type Socket } from "node:net";

export interface RawFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

export class RawWs {
  readonly frames: RawFrame[] = [];
  status = 0;
  response = "";
  closed = false;
  #buf = Buffer.alloc(0);
  #upgraded = false;
  readonly ready: Promise<number>;
  readonly ended: Promise<void>;
  private constructor(readonly sock: Socket, path: string, host: string, headers: Record<string, string>) {
    this.ready = new Promise((resolve) => {
      sock.on("data", (d: Buffer) => {
        this.#buf = Buffer.concat([this.#buf, d]);
        if (!this.#upgraded) {
          const end = this.#buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          this.response = this.#buf.subarray(0, end).toString();
          this.status = Number(this.response.split(" ")[1]);
          if (this.status !== 101) {
            this.response = this.#buf.toString();
            resolve(this.status);
            return;
          }
          this.#upgraded = true;
          this.#buf = this.#buf.subarray(end + 4);
          resolve(101);
        }
        this.#parse();
      });
    });
    this.ended = new Promise((resolve) => sock.on("close", () => ((this.closed = true), resolve())));
    sock.on("error", () => {});
    const lines = [`GET ${path} HTTP/1.1`, `Host: ${host}`, "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    sock.write(lines.join("\r\n") + "\r\n\r\n");
  }

  static open(port: number, path: string, headers: Record<string, string> = {}): RawWs {
    return new RawWs(connect(port, "127.0.0.1"), path, `127.0.0.1:${port}`, headers);
  }

  #parse() {
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) return;
      let len = b[1] & 0x7f, off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        (len = b.readUInt16BE(2)), (off = 4);
      } else if (len === 127) {
        if (b.length < 10) return;
        (len = Number(b.readBigUInt64BE(2))), (off = 10);
      }
      if (b.length < off + len) return;
      const frame = { fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0x0f, payload: Buffer.from(b.subarray(off, off + len)) };
      this.frames.push(frame);
      this.#buf = b.subarray(off + len);
      // Answer a close like a well-behaved client, so the server can end the TCP connection.
      if (frame.opcode === 8 && !this.sock.destroyed) {
        this.send(8, frame.payload.subarray(0, 2));
        this.sock.end();
      }
    }
  }

  /** Sends one masked frame (clients must mask). */
  send(opcode: number, payload: Buffer | string, fin = true): void {
    const data = typeof payload === "string" ? Buffer.from(payload) : payload;
    const mask = Buffer.from([1, 2, 3, 4]);
    const head = data.length < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | data.length])
      : data.length < 65536 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, data.length >> 8, data.length & 255])
      : (() => {
        const h = Buffer.alloc(10);
        h[0] = (fin ? 0x80 : 0) | opcode;
        h[1] = 0x80 | 127;
        h.writeBigUInt64BE(BigInt(data.length), 2);
        return h;
      })();
    const masked = Buffer.from(data.map((x, i) => x ^ mask[i % 4]));
    this.sock.write(Buffer.concat([head, mask, masked]));
  }

  /** The close frame's code, if one arrived. */
  closeCode(): number | undefined {
    const f = this.frames.find((x) => x.opcode === 8);
    return f && f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined;
  }

  /** Text frames, parsed as JSON where possible. */
  texts(): string[] {
    return this.frames.filter((f) => f.opcode === 1).map((f) => f.payload.toString());
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/** The HTTP status (and JSON body) an upgrade of `path` gets; the socket is closed after. */
export async function upgradeStatus(port: number, path: string, headers: Record<string, string> = {}): Promise<{ code: number; body: any }> {
  const raw = RawWs.open(port, path, headers);
  const code = await raw.ready;
  const body = code === 101 ? "" : raw.response.slice(raw.response.indexOf("\r\n\r\n") + 4);
  raw.destroy();
  return { code, body: body ? JSON.parse(body) : undefined };
}
