/** An in-memory Transport for unit tests of the core: records frames, never touches a network. */
import { SendResult, type Frame, type Transport } from "../../src/lib/transport.ts";

export class MemoryTransport implements Transport {
  readonly sent: Frame[] = [];
  closedWith?: { code: number; reason: string };
  /** Pretend bytes are stuck in the socket buffer. */
  buffered = 0;
  send(frame: Frame): SendResult {
    if (this.closedWith) return SendResult.Dropped;
    this.sent.push(frame);
    return this.buffered > 0 ? SendResult.Queued : SendResult.Sent;
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  close(code: number, reason: string): void {
    this.closedWith ??= { code, reason };
  }
  /** Parsed JSON text frames. */
  json(): any[] {
    return this.sent.filter((f) => typeof f === "string").map((f) => JSON.parse(f as string));
  }
}
