/** An in-memory server for unit tests: the real core, MemoryTransport sockets, a manual clock. */
import type { ClusterBackend } from "../../src/cluster/types.ts";
import { defaultConfig, type Config } from "../../src/config.ts";
import type { Connection } from "../../src/core/connection.ts";
import { Server } from "../../src/core/server.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { LoopFanout } from "../../src/lib/loop-fanout.ts";
import type { Format } from "../../src/protocol/types.ts";
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
  /** POSE_BATCH frames (`?batch=1`). */
  batch?: boolean;
  resume?: { sessionId: string; lastSeq: number; epoch?: number };
}

/** A server on memory sockets (`cluster`: a shared broker's node, as in the model tests). */
export function memoryHub(config: Partial<Config> = {}, opts: { clock?: ManualClock; cluster?: ClusterBackend; collectGarbage?: () => boolean } = {}) {
  const clock = opts.clock ?? new ManualClock();
  const fanout = new LoopFanout();
  const hub = new Server({ config: defaultConfig(config), fanout, clock, cluster: opts.cluster, collectGarbage: opts.collectGarbage });
  const open = (roomId: string, clientId: string = crypto.randomUUID(), o: OpenOptions = {}): TestConn => {
    const t = new MemoryTransport();
    const conn = hub.open({ roomId, clientId, userId: o.userId ?? null, format: o.format ?? "json", displayName: o.displayName, reliable: o.reliable, resume: o.resume, batch: o.batch }, t);
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
  /** One delivery sweep (resends, outbox, expired holds) at the clock's time. */
  const sweep = () => {
    const now = clock.now();
    hub.acks.sweep(now);
    hub.sequencer.retry(now);
    hub.sessions.expire(now);
  };
  return { hub, clock, fanout, open, sweep };
}
