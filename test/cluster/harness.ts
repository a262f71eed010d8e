/**
 * The harness of the cluster contract (contract*.test.ts): the same tests run against the
 * memory broker, a private redis-server and a private 3-master Redis Cluster (sharded
 * pub/sub), two or three "nodes" sharing each. Time is a ManualClock injected into the
 * backends, so liveness and reaping need no sleeping; Redis key expiry (real time) is the
 * only wait, in the epoch and session-expiry tests.
 */
import { afterAll, afterEach, beforeAll, describe } from "bun:test";
import { ManualClock } from "../../src/core/clock.ts";
import { createClusterBackend, MemoryBroker, type ClusterOptions } from "../../src/cluster/index.ts";
import type { ClusterBackend, SessionRecord } from "../../src/cluster/types.ts";
import { encodeBinary } from "../../src/protocol/proto.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { startRedis, startRedisCluster, type TestRedis, type TestRedisCluster } from "../helpers/redis.ts";
import { sleep, unhandledRejections, waitFor } from "./fixtures.ts";

/** Node liveness TTL of every harness. */
export const TTL = 10_000;

export interface Harness {
  clock: ManualClock;
  /** `n` nodes sharing one broker / Redis (fresh namespace per call). */
  nodes(n: number, opts?: Partial<ClusterOptions>): Promise<ClusterBackend[]>;
  /** Lets pending deliveries happen. */
  settle(): Promise<void>;
  /** Moves time on (Redis: also really waits, for key expiry). */
  elapse(ms: number): Promise<void>;
  /** Takes the backend of `nodes` away (Redis: stops the server) until the returned function brings it back. */
  outage(nodes: ClusterBackend[]): Promise<() => Promise<void>>;
}

export type Got = { room: string; frame: Uint8Array; from: string };
export function collect(b: ClusterBackend): Got[] {
  const got: Got[] = [];
  b.bus.onFrame((room, frame, from) => got.push({ room, frame: frame.slice(), from }));
  return got;
}

/** An encoded CHAT_MESSAGE frame. */
export const chat = (text: string) =>
  encodeBinary({ type: MessageType.CHAT_MESSAGE, payload: "chat_message", chat_message: { from_client_id: "c", message: text } } as never);

/** A session record in room "lobby" (`connection_id` only when attached). */
export const session = (id: string, node: string, conn?: string): SessionRecord => ({
  id,
  room_id: "lobby",
  user_id: null,
  client_id: `client-${id}`,
  node_id: node,
  ...(conn ? { connection_id: conn } : {}),
});

let redis: TestRedis | undefined;
let redisCluster: TestRedisCluster | undefined;
let nsSeq = 0;
const open: ClusterBackend[] = [];

const healthy = (nodes: ClusterBackend[], want: boolean) => () => nodes.every((b) => b.bus.status().healthy === want && b.presence.status().healthy === want);

const memoryHarness = (): Harness => {
  const clock = new ManualClock();
  let broker: MemoryBroker | undefined;
  return {
    clock,
    async nodes(n, opts = {}) {
      broker = new MemoryBroker({ clock, nodeTtlMs: TTL, ...opts });
      const out: ClusterBackend[] = [];
      for (let i = 0; i < n; i++) out.push(await createClusterBackend({ nodeId: `node-${String.fromCharCode(97 + i)}`, broker, ...opts }));
      open.push(...out);
      return out;
    },
    async settle() {
      await sleep(0);
    },
    async elapse(ms) {
      clock.advance(ms);
    },
    async outage() {
      const b = broker!;
      b.setAvailable(false, "Simulated outage");
      return async () => b.setAvailable(true);
    },
  };
};

/** Nodes on the private redis-server, or (with `cluster`) on the private Redis Cluster. */
const redisHarness = (cluster = false): Harness => {
  const clock = new ManualClock(Date.now());
  const target = (): Partial<ClusterOptions> => (cluster ? { clusterNodes: redisCluster!.nodes } : { redisUrl: redis!.url });
  return {
    clock,
    async nodes(n, opts = {}) {
      const prefix = `gwtest${++nsSeq}`;
      const out: ClusterBackend[] = [];
      for (let i = 0; i < n; i++) {
        out.push(await createClusterBackend({ ...target(), prefix, nodeId: `node-${String.fromCharCode(97 + i)}`, clock, nodeTtlMs: TTL, ...opts }));
      }
      open.push(...out);
      return out;
    },
    async settle() {
      await sleep(30);
    },
    async elapse(ms) {
      clock.advance(ms);
      await sleep(ms);
    },
    async outage(nodes) {
      await (cluster ? redisCluster!.stop() : redis!.stop("kill"));
      await waitFor(healthy(nodes, false), "unhealthy status");
      return async () => {
        await (cluster ? redisCluster!.start() : redis!.start());
        await waitFor(healthy(nodes, true), "healthy again", 10_000);
      };
    },
  };
};

/** Unhandled rejections seen while the suites of this file ran. */
export const rejections = unhandledRejections();

/**
 * Registers `body` once per backend (memory, a private redis-server, a private 3-master Redis
 * Cluster) as `describe("<title>: <kind>")`, with the servers started for the file and every
 * node closed after each test.
 */
export function contractSuites(title: string, body: (h: Harness, kind: "memory" | "redis" | "redis-cluster") => void): void {
  let starting: Promise<[PromiseSettledResult<TestRedis>, PromiseSettledResult<TestRedisCluster>]> | undefined;
  beforeAll(async () => {
    rejections.install();
    starting = Promise.allSettled([startRedis(), startRedisCluster(3)]);
    const [r, c] = await starting;
    if (r.status === "rejected") throw r.reason;
    if (c.status === "rejected") throw c.reason;
    [redis, redisCluster] = [r.value, c.value];
  }, 30_000); // redis-cli --cluster create waits for the nodes to agree: 2-4 s
  afterAll(async () => {
    // what was started, even if the other start failed or beforeAll timed out meanwhile
    const started = ((await starting) ?? []).flatMap((x) => (x.status === "fulfilled" ? [x.value] : []));
    await Promise.all(started.map((x) => x.close()));
    rejections.remove();
  }, 10_000);
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
  });
  for (const [kind, make] of [
    ["memory", memoryHarness],
    ["redis", () => redisHarness(false)],
    ["redis-cluster", () => redisHarness(true)],
  ] as const) {
    describe(`${title}: ${kind}`, () => body(make(), kind));
  }
}
