/**
 * [ops] Redis Sentinel, on loopback: 1 master, 1 replica, 3 Sentinels started here. Three
 * instances (Bun, Deno, Node) find the master through REDIS_SENTINELS / REDIS_SENTINEL_NAME;
 * the master is killed; once the Sentinels promote the replica, rooms deliver across instances
 * again within 10 s, and nobody was disconnected or seen leaving.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClusterBackend } from "../../src/cluster/index.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { eventually } from "../helpers/client.ts";
import { freePort } from "../helpers/redis.ts";
import { startRedisSentinel, type TestSentinel } from "../helpers/sentinel.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";
import { sdk, type Recorder } from "../helpers/sdk.ts";

/** What each member got last (type, seq, epoch, chat) and each server's last log lines, for a failure message. */
const diagnose = (members: Recorder[], servers: RunningServer[]) =>
  [
    ...members.map((m) => `${m.client.clientId}: ${JSON.stringify(m.messages.slice(-4).map((x) => [x.type, x.seq, x.epoch, x.chat_message?.message]))}`),
    ...servers.map((s) => `${s.runtime}: ${s.lines.slice(-4).join(" ")} ${s.stderr().slice(-300)}`),
  ].join("\n");
/** `eventually`, with every member's and server's last words and each server's cluster state added to a timeout. */
const step = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, members: Recorder[], servers: RunningServer[]) => {
  const t0 = Date.now();
  await eventually(check, timeoutMs, what).catch(async (e) => {
    const health = await Promise.all(servers.map(async (s) => `${s.runtime} /health: ${await fetch(`${s.http}/health`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), (x) => String(x))}`));
    throw new Error(`${(e as Error).message} (after ${Date.now() - t0} ms); ${diagnose(members, servers)}\n${health.join("\n")}`);
  });
};
const chats = (r: Recorder) => r.ofType(MessageType.CHAT_MESSAGE).map((m) => Number(m.chat_message!.message!));

describe("Redis Sentinel", () => {
  let rs: TestSentinel | undefined;
  let servers: RunningServer[] = [];
  beforeAll(async () => {
    rs = await startRedisSentinel();
  }, 30_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await rs?.close();
  });

  test("unreachable Sentinels: creation rejects with a clear error naming them", async () => {
    const port = await freePort();
    const err = await createClusterBackend({ nodeId: "n", sentinels: `127.0.0.1:${port}`, sentinelName: "gwmaster", connectTimeoutMs: 500 }).catch((e) => e);
    expect(err.message).toContain(`Redis Sentinel master "gwmaster" via 127.0.0.1:${port} is not reachable after 500 ms`);
  });

  test("kill the master: after the promotion, rooms deliver across instances again within 10 s; nobody disconnected", async () => {
    const env = { REDIS_SENTINELS: rs!.sentinels.join(","), REDIS_SENTINEL_NAME: rs!.name, RATE_LIMIT_MESSAGES: "100000" };
    const settled = await Promise.allSettled(RUNTIMES.map((rt) => startServer(rt, { ...env, NODE_ID: `s-${rt}` })));
    servers = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    expect(servers.length, settled.map((r) => (r.status === "rejected" ? String(r.reason) : "")).join(" ")).toBe(RUNTIMES.length);
    for (const s of servers) {
      const health = await (await fetch(`${s.http}/health`)).json();
      expect(health.cluster).toEqual({ backend: "redis-sentinel", healthy: true });
    }
    const members = await Promise.all(servers.map((s, i) => sdk(s.ws, "sentinel-room", { clientId: `m${i}`, format: i % 2 ? "protobuf" : "json" })));
    const closes: string[] = [];
    members.forEach((m, i) => m.client.on("close", (c) => closes.push(`m${i}:${c.code}`)));
    await members[0]!.waitFor(() => members.every((m) => members[0]!.client.players.has(m.client.clientId!)), "every member (in its hello or as a join: the three connect at once)");

    let n = 0;
    const stream = setInterval(() => members[0]!.client.sendChat(String(n++)), 50);
    try {
      const others = members.slice(1);
      await step("cross-instance chats before the failover", () => others.every((m) => chats(m).length > 5), 5000, members, servers);

      await rs!.kill(rs!.masterPort);
      const killedAt = Date.now();
      await eventually(async () => (await rs!.currentMaster()) === rs!.replicaPort, 20_000, "the Sentinels to promote the replica");
      const promotedAt = Date.now();
      const sentAtPromotion = n;
      await step("cross-instance delivery after the promotion", () => others.every((m) => chats(m).some((x) => x >= sentAtPromotion)), 10_000, members, servers);
      const recoveredIn = Date.now() - promotedAt;
      expect(recoveredIn).toBeLessThan(10_000);
      console.log(`sentinel failover: promotion ${promotedAt - killedAt} ms after the kill, delivery across instances ${recoveredIn} ms after the promotion`);

      for (const s of servers) {
        await step(`${s.runtime} ready again`, async () => (await (await fetch(`${s.http}/ready`)).status) === 200, 10_000, members, servers);
        expect((await (await fetch(`${s.http}/health`)).json()).cluster).toEqual({ backend: "redis-sentinel", healthy: true });
      }
    } finally {
      clearInterval(stream);
    }
    // Nobody was disconnected, and nobody saw anyone leave.
    expect(closes, diagnose(members, servers)).toEqual([]);
    for (const m of members) expect(m.ofType(MessageType.PRESENCE_LEAVE), diagnose(members, servers)).toEqual([]);
    const stats = await (await fetch(`${servers[0]!.http}/ws/sentinel-room/stats`)).json();
    expect(stats.connections.map((c: { client_id: string }) => c.client_id).sort()).toEqual(members.map((_, i) => `m${i}`));

    // A planned failover back: the old master returns as a replica, then is promoted while the
    // current master stays up and is demoted (its writes would now fail with READONLY).
    await rs!.restart(rs!.masterPort);
    await eventually(async () => {
      try {
        await rs!.inSync(rs!.masterPort, 500);
        return true;
      } catch {
        return false;
      }
    }, 20_000, "the old master back as an in-sync replica");
    const stream2 = setInterval(() => members[0]!.client.sendChat(String(n++)), 50);
    try {
      await rs!.failover();
      await eventually(async () => (await rs!.currentMaster()) === rs!.masterPort, 20_000, "the planned failover");
      const switchedAt = Date.now();
      const sentAtSwitch = n;
      await step("delivery after the planned failover", () => members.slice(1).every((m) => chats(m).some((x) => x >= sentAtSwitch + 5)), 10_000, members, servers);
      console.log(`sentinel planned failover: delivery across instances ${Date.now() - switchedAt} ms after the switch`);
    } finally {
      clearInterval(stream2);
    }
    expect(closes, diagnose(members, servers)).toEqual([]);
    for (const m of members) expect(m.ofType(MessageType.PRESENCE_LEAVE), diagnose(members, servers)).toEqual([]);
    for (const m of members) m.client.close();
  }, 120_000);
});
