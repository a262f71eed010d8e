/** An in-memory hub for unit tests: real core, MemoryTransport sockets, manual clock. */
import { defaultConfig, type Config } from "../../src/config.ts";
import { ManualClock } from "../../src/core/clock.ts";
import type { Connection } from "../../src/core/connection.ts";
import { Hub } from "../../src/core/hub.ts";
import { LoopFanout } from "../../src/core/loop-fanout.ts";
import type { Format } from "../../src/core/room.ts";
import { decodeServerFrame } from "../../src/client/decode.ts";
import type { Envelope } from "../../src/protocol/types.ts";
import { MemoryTransport } from "./memory.ts";

export interface TestConn {
  t: MemoryTransport;
  conn: Connection;
  /** Typed messages received so far (hello excluded). */
  messages(): Envelope[];
  /** Messages of one MessageType. */
  ofType(type: number): Envelope[];
  /** Raw relayed frames. */
  raws(): (string | Uint8Array)[];
}

export interface OpenOptions {
  format?: Format;
  userId?: string;
  displayName?: string;
  reliable?: boolean;
  resume?: { sessionId: string; lastSeq: number; epoch?: number };
}

export function memoryHub(config: Partial<Config> = {}) {
  const clock = new ManualClock();
  const fanout = new LoopFanout();
  const hub = new Hub({ config: defaultConfig(config), fanout, clock });
  const open = (roomId: string, clientId: string = crypto.randomUUID(), opts: OpenOptions = {}): TestConn => {
    const t = new MemoryTransport();
    const conn = hub.open({ roomId, clientId, userId: opts.userId ?? null, format: opts.format ?? "json", displayName: opts.displayName, reliable: opts.reliable, resume: opts.resume }, t);
    const decoded = () => t.sent.map(decodeServerFrame);
    const messages = () => decoded().flatMap((f) => (f.kind === "message" ? [f.msg] : []));
    return {
      t,
      conn,
      messages,
      ofType: (type) => messages().filter((m) => m.type === type),
      raws: () => decoded().flatMap((f) => (f.kind === "raw" ? [f.data] : [])),
    };
  };
  return { hub, clock, fanout, open };
}
