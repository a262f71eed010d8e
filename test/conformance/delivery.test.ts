/** [delivery] acknowledged delivery, resume and backpressure against the real server on every runtime. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { GraphwizClient } from "../../src/client/index.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { eventually, TestClient } from "../helpers/client.ts";
import { CutProxy } from "../helpers/proxy.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { RUNTIMES, startServer, type Runtime, type RunningServer } from "../helpers/server.ts";
import { sdk } from "../helpers/sdk.ts";

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
/** The stated bound on server memory while one client stalls under load (see docs/delivery.md). */
const RSS_BOUND_MB = 300;
const metrics = async (s: RunningServer) => (await fetch(`${s.http}/metrics?format=json`)).json() as Promise<any>;
const chatsOf = (raw: RawWs) => raw.texts().filter((t) => t.includes('"CHAT_MESSAGE"')).map((t) => JSON.parse(t));

describe.each(RUNTIMES)("delivery on %s", (runtime) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer(runtime, {
      RATE_LIMIT_MESSAGES: "1000000", GLOBAL_RATE_LIMIT_MESSAGES: "10000000",
      ACK_TIMEOUT_MS: "300", MAX_RETRIES: "2",
    });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("frames sent in one tick to different members reach only their own recipient (whispers in one TCP write)", async () => {
    // The Node host joins a recipient's frames of one tick into one buffer and shares it between
    // recipients with the very same frames: X and Y get as many frames each, but not the same ones.
    const [x, y, from] = ["x", "y", "from"].map((id) => RawWs.open(s.port, `/ws/tick-split?client_id=${id}`));
    for (const c of [x, y, from]) expect(await c.ready).toBe(101);
    await eventually(() => [x, y, from].every((c) => c.texts().some((t) => t.includes('"SERVER_HELLO"'))), 5000, "hellos");
    await eventually(() => x.texts().filter((t) => t.includes('"PRESENCE_JOIN"')).length >= 2, 5000, "x sees y and from join");
    await eventually(() => y.texts().some((t) => t.includes('"PRESENCE_JOIN"') && t.includes('"from"')), 5000, "y sees from join");
    const whisper = (to: string, text: string) => JSON.stringify({ type: "CHAT_MESSAGE", payload: { message: text, type: "WHISPER", to_client_id: to } });
    from.sock.cork(); // one write: the server reads the four frames at once
    for (const [to, text] of [["x", "x1"], ["y", "y1"], ["x", "x2"], ["y", "y2"]]) from.send(1, whisper(to, text));
    from.sock.uncork();
    const got = (c: RawWs) => chatsOf(c).map((m) => m.payload.message);
    await eventually(() => got(x).length >= 2 && got(y).length >= 2, 5000, "the whispers");
    await Bun.sleep(100);
    expect(got(x)).toEqual(["x1", "x2"]);
    expect(got(y)).toEqual(["y1", "y2"]);
    for (const c of [x, y, from]) c.destroy();
  });

  test("a reliable client whose TCP connection drops mid-stream of 1,000 chats resumes and gets each exactly once, in order", async () => {
    const proxy = await CutProxy.start(s.port);
    const receiver = new GraphwizClient({ url: `ws://127.0.0.1:${proxy.port}`, room: "resume", reliable: true, reconnect: { initialMs: 20, maxMs: 100 } });
    const got: string[] = [];
    const hellos: boolean[] = [];
    receiver.on("chat", (c) => got.push(c.message!));
    receiver.on("hello", (h) => hellos.push(h.resumed === true));
    await receiver.connect();
    const sender = await sdk(s.ws, "resume");
    for (let i = 0; i < 1000; i++) {
      sender.client.sendChat(`m${i}`);
      if (i === 400) proxy.cut();
      if (i % 50 === 49) await Bun.sleep(5);
    }
    await eventually(() => got.length >= 1000, 20_000, "all 1,000 chats");
    await Bun.sleep(300);
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => `m${i}`));
    expect(hellos).toEqual([false, true]);
    expect((await metrics(s)).delivery.resumes).toBeGreaterThanOrEqual(1);
    receiver.close();
    sender.client.close();
    proxy.stop();
  });

  test("a client that never acks sees the resends (same seq), then 4104; resuming afterwards still works", async () => {
    const silent = new TestClient(`${s.ws}/ws/noack?ack=1&client_id=silent`);
    const hello = await silent.hello();
    const sender = await sdk(s.ws, "noack");
    sender.client.sendChat("please ack");
    const closed = await silent.closedP;
    expect(closed.code).toBe(4104);
    const chats = silent.inbox.filter((f) => typeof f === "string" && f.includes('"please ack"')).map((f) => JSON.parse(f as string));
    expect(chats.length).toBe(3); // the original and MAX_RETRIES = 2 resends
    expect(new Set(chats.map((c) => c.seq)).size).toBe(1);
    const back = new TestClient(`${s.ws}/ws/noack?resume=${hello.session_id}&last_seq=${chats[0].seq - 1}&epoch=${hello.epoch}`);
    const h2 = await back.hello();
    expect(h2).toMatchObject({ resumed: true, client_id: "silent", session_id: hello.session_id });
    await back.until((box) => box.some((f) => typeof f === "string" && f.includes('"please ack"')));
    back.send(JSON.stringify({ type: "ACK", seq: chats[0].seq }));
    await back.close();
    sender.client.close();
  }, 15_000);
});

/** A server for the stalled-client tests: small soft limit, the given hard limit, big frames allowed. */
const backpressureServer = (runtime: Runtime, hardBytes: number) => startServer(runtime, {
  RATE_LIMIT_MESSAGES: "1000000", GLOBAL_RATE_LIMIT_MESSAGES: "10000000", PING_INTERVAL_MS: "600000", MAX_MESSAGE_BYTES: "100000",
  SLOW_CONSUMER_SOFT_BYTES: "16384", SLOW_CONSUMER_HARD_BYTES: String(hardBytes),
});

describe.each(RUNTIMES)("backpressure on %s", (runtime) => {
  test("a paused client under 30 Hz positions and chat: the others get everything, it is closed at the hard limit, memory stays bounded", async () => {
    const s = await backpressureServer(runtime, 1_048_576);
    try {
      const paused = RawWs.open(s.port, "/ws/stall?client_id=paused");
      expect(await paused.ready).toBe(101);
      paused.sock.pause();
      const peers = await Promise.all([1, 2, 3].map((i) => sdk(s.ws, "stall", { clientId: `peer${i}`, format: i === 2 ? "protobuf" : "json" })));
      const streamer = await sdk(s.ws, "stall", { clientId: "streamer", format: "protobuf" });
      const pad = "x".repeat(48_000); // big chats fill the kernel's socket buffers in seconds
      let positions = 0, chats = 0, maxRss = 0;
      const t0 = Date.now();
      while (Date.now() - t0 < 30_000) {
        for (let e = 0; e < 5; e++) streamer.client.sendPosition({ x: positions, y: e, z: 0 }), positions++;
        streamer.client.sendChat(`${chats++}:${pad}`);
        await Bun.sleep(33); // ~30 Hz
        if (chats % 15 === 0) {
          maxRss = Math.max(maxRss, rssMb(s.proc.pid));
          const stats = await (await fetch(`${s.http}/ws/stall/stats`)).json();
          if (!stats.connections.some((c: any) => c.client_id === "paused")) break;
        }
      }
      const m = await metrics(s);
      expect(m.delivery.slow_consumer_closes).toBe(1);
      expect(m.disconnections_by_code["4101"]).toBe(1);
      for (const p of peers) {
        await p.waitFor(() => p.ofType(MessageType.CHAT_MESSAGE).length === chats && p.ofType(MessageType.POSITION_UPDATE).length === positions, "every frame", 10_000);
      }
      expect(maxRss).toBeLessThan(RSS_BOUND_MB);
      for (const c of [...peers, streamer]) c.client.close();
      paused.destroy();
    } finally {
      await s.stop();
    }
  }, 60_000);

  test("a paused client below the hard limit that reads again gets the newest position of each entity and every chat, in order", async () => {
    const s = await backpressureServer(runtime, 268_435_456);
    try {
      const paused = RawWs.open(s.port, "/ws/catchup?client_id=paused");
      expect(await paused.ready).toBe(101);
      paused.sock.pause();
      const streamer = await sdk(s.ws, "catchup", { clientId: "streamer", format: "protobuf" });
      const pad = "y".repeat(48_000);
      const last = new Map<string, number>();
      let chats = 0, step = 0;
      const t0 = Date.now();
      // Stream until the server reports the paused client's queue in use (it went slow), then a little more.
      let slowSince = 0;
      while (Date.now() - t0 < 30_000 && (!slowSince || Date.now() - slowSince < 1000)) {
        for (let e = 0; e < 5; e++) {
          const id = streamer.client.clientId!;
          // Entity 0 is the streamer's avatar; the others are its spawned entities.
          if (step === 0 && e > 0) streamer.client.spawnEntity({ entity_id: `ent${e}` });
          const entity = e === 0 ? id : `ent${e}`;
          streamer.client.sendPosition({ x: step, y: e, z: 0 }, undefined, entity);
          last.set(entity, step);
        }
        streamer.client.sendChat(`${chats++}:${pad}`);
        step++;
        await Bun.sleep(33);
        if (!slowSince && step % 10 === 0 && (await metrics(s)).delivery.queued_messages > 0) slowSince = Date.now();
      }
      expect(slowSince).toBeGreaterThan(0);
      paused.sock.resume();
      await eventually(() => chatsOf(paused).length === chats, 20_000, "every chat after resuming");
      const got = chatsOf(paused).map((c) => Number(c.payload.message.split(":")[0]));
      expect(got).toEqual(Array.from({ length: chats }, (_, i) => i));
      const positions = paused.texts().filter((t) => t.includes('"POSITION_UPDATE"')).map((t) => JSON.parse(t).payload);
      for (const [entity, x] of last) expect(positions.filter((p) => p.entity_id === entity).at(-1)?.position.x).toBe(x);
      expect(positions.length).toBeLessThan(step * 5); // coalesced while slow
      expect((await metrics(s)).delivery.coalesced).toBeGreaterThan(0);
      streamer.client.close();
      paused.destroy();
    } finally {
      await s.stop();
    }
  }, 60_000);
});
