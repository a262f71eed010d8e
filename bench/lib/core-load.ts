/**
 * The workload of `bench/core.ts` (bundled by it, run by Bun, Node or Deno): one core
 * {@link Server} with a room of one sender and N receivers whose transports only keep the
 * last frame (no sockets, no adapter), fed the fan-out scenario's frames — protobuf
 * PositionUpdates, every `chatEvery`-th a ChatMessage — through the connection's handle, as an
 * adapter would. Prints one JSON line: wall-clock ns per inbound message for each round, and
 * the process CPU (user + system, GC threads included) per message.
 *
 * This is bench code: the transports here stand in for sockets to take the sockets' cost out
 * of the figure; tests never use them.
 * @module
 */
import process from "node:process";
import { setImmediate } from "node:timers";
import { defaultConfig } from "../../src/config.ts";
import { Server } from "../../src/core/server.ts";
import * as frameAlloc from "../../src/lib/frame-alloc.ts";
import { LoopFanout } from "../../src/lib/loop-fanout.ts";
import type { Fanout, Frame, Transport } from "../../src/lib/transport.ts";
import { chatTemplate, patchSeq, positionTemplate, type Template } from "./pb.ts";

const args = new Map(process.argv.slice(2).filter((a) => a.startsWith("--")).map((a) => {
  const [k, v] = a.slice(2).split("=");
  return [k!, v ?? "1"] as const;
}));
const num = (k: string, d: number) => (args.has(k) ? Number(args.get(k)) : d);
const RECEIVERS = num("receivers", 100);
const CHAT_EVERY = num("chat-every", 16);
const MSGS = num("msgs", 100_000);
const ROUNDS = num("rounds", 7);
const BATCH = 128; // frames handled per macrotask (one socket read's worth), then timers may run

/** A socket that takes every frame at once and keeps only the last (so nothing is optimised away). */
class SinkTransport implements Transport {
  sent = 0;
  last: Frame | undefined;
  send(frame: Frame): 1 {
    this.sent++;
    this.last = frame;
    return 1;
  }
  bufferedAmount(): number {
    return 0;
  }
  close(): void {}
}

/**
 * `--fanout=native`: stands in for Bun's native topic publish, whose per-recipient loop runs in
 * Bun's C++ (the same work raw `Bun.serve` publish does): each publish is counted, nobody is
 * looped over, so the figure is only the JavaScript Bun runs per inbound message.
 */
class NativeLikeFanout implements Fanout {
  published = 0;
  last: Frame | undefined;
  subscribe(): void {}
  unsubscribe(): void {}
  publish(_topic: string, frame: Frame): void {
    this.published++;
    this.last = frame;
  }
}
const native = args.get("fanout") === "native";

// As the Node host does on V8 (Node, Deno); absent in trees from before lib/frame-alloc.ts.
if (!("Bun" in globalThis)) (frameAlloc as { useFrameSlab?: () => void }).useFrameSlab?.();

const tick = () => new Promise<void>((r) => setImmediate(r));

const config = defaultConfig({
  rateLimitMessages: 10_000_000,
  globalRateLimitMessages: 100_000_000,
  connectRateLimit: 0,
  maxRoomConnections: 100_000,
  interestMinRoomSize: 0,
});
const fanout = native ? new NativeLikeFanout() : new LoopFanout();
const server = new Server({ config, fanout, runtime: "bench" });
const open = (i: number, t: Transport) => server.open({ roomId: "bench", userId: null, clientId: `client-${i}`, format: "protobuf" }, t);
const sinks: SinkTransport[] = [];
for (let i = 0; i < RECEIVERS; i++) {
  const t = new SinkTransport();
  sinks.push(t);
  open(i + 1, t);
}
const sender = open(0, new SinkTransport());
await tick();
if (!sender.joined) throw new Error("the sender did not join");

// A ring of frames as a socket would hand them over (each with its own sequence number).
const RING = 256;
const ring = (t: Template) => Array.from({ length: RING }, (_, i) => {
  const b = t.bytes.slice();
  patchSeq(t, b, 0, i);
  return b;
});
const pos = ring(positionTemplate(true));
const chat = ring(chatTemplate(50));

let idx = 0;
async function run(n: number): Promise<number> {
  let ns = 0;
  for (let done = 0; done < n; done += BATCH) {
    const t0 = performance.now();
    const m = Math.min(BATCH, n - done);
    for (let k = 0; k < m; k++, idx++) {
      const frame = CHAT_EVERY > 0 && idx % CHAT_EVERY === CHAT_EVERY - 1 ? chat[idx % RING]! : pos[idx % RING]!;
      sender.message(frame);
    }
    ns += (performance.now() - t0) * 1e6;
    await tick();
  }
  return ns / n;
}

await run(Math.min(MSGS, 50_000)); // warm-up (JIT)
const got = () => (native ? (fanout as NativeLikeFanout).published : sinks[0]!.sent);
const before = got();
const wall: number[] = [];
const cpu: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const c0 = process.cpuUsage();
  const w = await run(MSGS);
  const c = process.cpuUsage(c0);
  wall.push(Math.round(w));
  cpu.push(Math.round(((c.user + c.system) * 1000) / MSGS));
}
const delivered = got() - before;
if (delivered !== ROUNDS * MSGS) throw new Error(`a receiver got ${delivered} frames, expected ${ROUNDS * MSGS}`);
console.log(JSON.stringify({ wall, cpu, receivers: RECEIVERS, chatEvery: CHAT_EVERY, msgs: MSGS, fanout: native ? "native" : "loop" }));
server.stop();
process.exit(0);
