/**
 * [guarantees] Finding 13: after Redis was restarted empty (the room's log starts a new epoch,
 * as documented) every client must still be able to acknowledge and to recover what it missed
 * in the new epoch. Seen once: an acknowledging member missed 3 chats sent just after the
 * recovery, was closed with 4104 two seconds later, resumed, and never got them.
 * Here: the sender (on the other instance) chats every 100 ms, also while Redis is down;
 * Redis is killed and restarted empty; once both instances are ready it sends 3 chats at once
 * and goes on. The member must get each chat sent after the recovery exactly once, in order,
 * in the new epoch; nobody is closed with 4104; and after a drop and a resume on the sender's
 * instance the member still has them all. (Without traffic during the outage this passes today.)
 */
import { expect, test } from "bun:test";
import { startRedisProc } from "../chaos/redis-procs.ts";
import { RealCluster, sleep } from "./real.ts";

test("[finding 13] Redis restarted empty: the member gets every chat of the new epoch once, in order, stays able to ACK (no 4104), and keeps them across a resume", async () => {
  const redis = await startRedisProc();
  const cluster = await RealCluster.start("epoch", ["bun", "node"], { REDIS_URL: redis.url, NODE_HEARTBEAT_MS: "500", NODE_TTL_MS: "30000", RESUME_WINDOW_MS: "30000", ACK_TIMEOUT_MS: "500", MAX_RETRIES: "3" });
  try {
    const sender = await cluster.client("sender", 0);
    const member = await cluster.client("member", 1);
    sender.chat(undefined, "before");
    await cluster.until(() => member.chats().includes("before"), "the chat before the restart");
    const oldEpoch = member.epoch;
    let during = true;
    const stream = (async () => {
      for (let i = 0; during; i++, await sleep(100)) sender.chat(undefined, `during-${i}`);
    })();
    await sleep(300);
    await redis.proc.kill();
    await sleep(1000);
    await redis.proc.start();
    await cluster.ready();
    during = false;
    await stream;
    const after: { text: string; id?: string }[] = [];
    for (let i = 0; i < 30; i++) {
      if (i >= 3) await sleep(100);
      after.push({ text: `after-${i}`, id: sender.chat(undefined, `after-${i}`) });
    }
    await sleep(4000); // > ACK_TIMEOUT_MS × (1 + 2 + 4 + 8): a member that cannot ACK would be closed by now
    const owed = after.filter((a) => a.id && !sender.refused.has(a.id)).map((a) => a.text);
    const got = () => member.chats().filter((t) => /^after-\d+$/.test(t));
    expect([...sender.serverCloses, ...member.serverCloses].map((c) => c.code)).toEqual([]);
    expect(got()).toEqual(owed);
    const newEpoch = member.life!.processed.filter((a) => /^after-\d+$/.test(a.text ?? "")).map((a) => a.epoch);
    expect(newEpoch.every((e) => e !== oldEpoch)).toBe(true);
    // A drop and a resume on the sender's instance: nothing missing, nothing twice.
    member.drop(true);
    await sleep(300);
    member.connect(cluster.nodes[0]!);
    await cluster.until(() => member.state === "connected", "the resume");
    sender.chat(undefined, "after-resume");
    await cluster.until(() => member.chats().includes("after-resume"), "a chat after the resume");
    expect(got()).toEqual(owed);
  } finally {
    await cluster.close();
    await redis.close();
  }
}, 60_000);
