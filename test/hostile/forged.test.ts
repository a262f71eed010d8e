/**
 * [security] finding 3 on every runtime, and across instances: fields only the server may set
 * (seq, epoch, message_id, timestamp, from_client_id, owner_id, a default entity id) are the
 * server's in every format; a forged one never reaches another client, nor moves any room's
 * sequence. Across instances, a client id held on one instance cannot be borrowed on another.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MessageType } from "../../src/protocol/types.ts";
import { decodeBinary, encodeBinary } from "../../src/protocol/proto.ts";
import { join, TestClient } from "../helpers/client.ts";
import { startRedis, type TestRedis } from "../helpers/redis.ts";
import { BUILDS, startBuild } from "../helpers/builds.ts";
import { startServer, type RunningServer } from "../helpers/server.ts";
import { sdk } from "../helpers/sdk.ts";
import { mint, SECRET } from "../helpers/tokens.ts";
import { jsonFrames } from "./common.ts";

const FORGED_SEQ = 1_000_000_000;
/** A binary position update carrying every server-owned envelope field, forged. */
const forgedPosition = () => encodeBinary({
  type: MessageType.POSITION_UPDATE, message_id: "forged-id", timestamp: 1, seq: FORGED_SEQ, epoch: 77,
  payload: "position_update", position_update: { entity_id: "", position: { x: 1 } },
});
const forgedVoice = () => encodeBinary({ type: MessageType.VOICE_DATA, seq: FORGED_SEQ, epoch: 77, payload: "voice_data", voice_data: { from_client_id: "someone-else", audio_data: new Uint8Array([1, 2]) } });

describe.each(BUILDS)("forged server-owned fields on %s", (runtime) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startBuild(runtime, { RATE_LIMIT_MESSAGES: "100000" });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("binary position and voice with forged seq/epoch/id/timestamp: every receiver sees the server's values; a reliable SDK client keeps getting chats", async () => {
    const attacker = await join(s.ws, "forge", "client_id=mallory");
    const json = await join(s.ws, "forge", "client_id=j");
    const pb = await join(s.ws, "forge", "client_id=p&format=protobuf");
    const rel = await sdk(s.ws, "forge", { clientId: "rel", reliable: true });
    attacker.send(forgedPosition());
    attacker.send(forgedVoice());
    attacker.send(JSON.stringify({ type: "CHAT_MESSAGE", seq: FORGED_SEQ, epoch: 77, message_id: "forged-chat", from_client_id: "someone-else", message: "m1" }));
    attacker.send(JSON.stringify({ type: "ENTITY_SPAWN", seq: FORGED_SEQ, entity_id: "e", owner_id: "someone-else" }));
    await rel.nOf(MessageType.ENTITY_SPAWN, 1);
    const fromJson = jsonFrames(json.inbox).filter((m) => m.type !== "SERVER_HELLO" && m.type !== "PRESENCE_JOIN");
    for (const m of fromJson) {
      expect(m.seq === undefined || m.seq < 1000).toBe(true);
      expect(m.message_id).not.toMatch(/^forged/);
      expect(Math.abs(m.timestamp - Date.now())).toBeLessThan(60_000);
    }
    expect(fromJson.find((m) => m.type === "POSITION_UPDATE")!.payload.entity_id).toBe("mallory");
    expect(fromJson.find((m) => m.type === "VOICE_DATA")!.payload.from_client_id).toBe("mallory");
    expect(fromJson.find((m) => m.type === "CHAT_MESSAGE")!.payload.from_client_id).toBe("mallory");
    expect(fromJson.find((m) => m.type === "ENTITY_SPAWN")!.payload.owner_id).toBe("mallory");
    await pb.until((box) => box.filter((f) => typeof f !== "string").length >= 5, 3000, "binary frames");
    for (const f of pb.inbox.filter((x): x is Uint8Array => typeof x !== "string").slice(1)) {
      const m = decodeBinary(f);
      expect(m.seq ?? 0).toBeLessThan(1000);
      expect(m.epoch === 77).toBe(false);
      expect(m.message_id).not.toMatch(/^forged/);
    }
    // The reliable client's de-duplication was not poisoned: later chats arrive.
    for (let i = 2; i <= 4; i++) attacker.send(JSON.stringify({ type: "CHAT_MESSAGE", message: `m${i}` }));
    await rel.waitFor(() => rel.ofType(MessageType.CHAT_MESSAGE).length === 4, "all four chats at the reliable client");
    expect(rel.ofType(MessageType.CHAT_MESSAGE).map((m) => m.chat_message!.message)).toEqual(["m1", "m2", "m3", "m4"]);
    rel.client.close();
    for (const c of [attacker, json, pb]) await c.close();
  });
});

describe("forged fields and borrowed ids across instances", () => {
  let redis: TestRedis;
  let a: RunningServer, b: RunningServer;
  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, JWT_SECRET: SECRET, RATE_LIMIT_MESSAGES: "100000", NODE_HEARTBEAT_MS: "500", NODE_TTL_MS: "3000" };
    [a, b] = await Promise.all([startServer("bun", { ...env, NODE_ID: "a" }), startServer("node", { ...env, NODE_ID: "b" })]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.close();
  });

  test("a forged seq on one instance does not move the room's sequence on the other; chats keep flowing there", async () => {
    const attacker = await join(a.ws, "x", `client_id=m&token=${await mint({ sub: "m" })}`);
    const remote = await sdk(b.ws, "x", { clientId: "r", reliable: true, token: await mint({ sub: "r" }) });
    attacker.send(forgedPosition());
    await remote.nOf(MessageType.POSITION_UPDATE, 1);
    for (let i = 0; i < 5; i++) attacker.send(JSON.stringify({ type: "CHAT_MESSAGE", message: `c${i}` }));
    await remote.waitFor(() => remote.ofType(MessageType.CHAT_MESSAGE).length === 5, "five chats across instances");
    expect(remote.ofType(MessageType.POSITION_UPDATE)[0]!.seq ?? 0).toBe(0);
    expect(remote.ofType(MessageType.CHAT_MESSAGE).every((m) => (m.seq ?? 0) < 1000)).toBe(true);
    remote.client.close();
    await attacker.close();
  });

  test("a client id held on one instance cannot be borrowed through another (closed 4409); the holder is untouched", async () => {
    const alice = await join(a.ws, "y", `client_id=alice-c&token=${await mint({ sub: "alice" })}`);
    const watcher = await join(a.ws, "y", `client_id=w&token=${await mint({ sub: "w" })}`);
    // Instance b does not know alice-c: the upgrade succeeds, the cluster-wide claim refuses it.
    const bob = new TestClient(`${b.ws}/ws/y?client_id=alice-c&token=${await mint({ sub: "bob" })}`);
    expect((await bob.closedP).code).toBe(4409);
    expect(jsonFrames(bob.inbox).map((m) => m.type)).toEqual(["ERROR"]);
    alice.send(JSON.stringify({ type: "CHAT_MESSAGE", message: "still mine" }));
    await watcher.until((box) => jsonFrames(box).some((m) => m.payload?.message === "still mine"), 3000, "alice's chat");
    await Bun.sleep(300);
    expect(jsonFrames(watcher.inbox).filter((m) => m.type === "PRESENCE_LEAVE")).toEqual([]);
    for (const c of [alice, watcher]) await c.close();
  });
});
