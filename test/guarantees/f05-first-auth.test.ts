/**
 * [guarantees] Finding 5: first-message authentication on a shared backend. Today the hub
 * routes the CLIENT_HELLO (and the frames queued behind it) before the asynchronous join has
 * finished, so its `display_name` is lost when the world is shared (kept on a single node).
 * Real JWTs (HS256), an in-process cluster of two instances on one broker.
 */
import { expect, test } from "bun:test";
import { decodeServerFrame } from "../../src/client/decode.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { toJsonText } from "../../src/protocol/codec.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { mint, SECRET } from "../helpers/tokens.ts";
import { simBroker, SimNode, type SimConn } from "../model/sim-node.ts";

const settle = () => new Promise<void>((r) => setTimeout(r, 5));

async function run(shared: boolean) {
  const clock = new ManualClock(Date.now());
  const broker = simBroker(clock, 4000);
  const config = { jwtSecret: SECRET };
  const a = new SimNode({ broker, clock, nodeId: "a", config, standalone: !shared });
  const b = shared ? new SimNode({ broker, clock, nodeId: "b", config }) : a;
  const pump = async () => {
    for (let i = 0; i < 20; i++) {
      await settle();
      broker.flush();
    }
  };
  const watcher = b.open({ room: "r", clientId: "watcher", userId: "w" });
  await pump();
  const alice = a.open({ room: "r", clientId: "alice", pendingAuth: true });
  const token = await mint({ sub: "alice-user", client_id: "alice" });
  alice.send(toJsonText({ type: MessageType.CLIENT_HELLO, payload: "client_hello", client_hello: { auth_token: token, display_name: "Alice" } }));
  alice.send(toJsonText({ type: MessageType.CHAT_MESSAGE, payload: "chat_message", chat_message: { message: "queued behind the hello" } }));
  // The token check is asynchronous (WebCrypto): wait for alice's SERVER_HELLO (2 s at most).
  for (let i = 0; i < 100 && !alice.socket.wire.some((f) => typeof f === "string" && f.includes("SERVER_HELLO")); i++) await pump();
  await pump();
  const late = b.open({ room: "r", clientId: "late" });
  await pump();
  const frames = (c: SimConn) => c.socket.read().map(decodeServerFrame);
  const lateHello = frames(late).find((f) => f.kind === "hello");
  const seen = frames(watcher).flatMap((f) => (f.kind === "message" ? [f.msg] : []));
  for (const n of new Set([a, b])) n.kill();
  return {
    name: lateHello?.kind === "hello" ? lateHello.hello.initial_state?.players?.find((p) => p.client_id === "alice")?.display_name : undefined,
    joinName: seen.find((m) => m.type === MessageType.PRESENCE_JOIN && m.presence_event?.client_id === "alice")?.presence_event?.data?.display_name,
    updates: seen.filter((m) => m.type === MessageType.PRESENCE_UPDATE && m.presence_event?.client_id === "alice").map((m) => m.presence_event?.data?.display_name),
    chats: seen.filter((m) => m.type === MessageType.CHAT_MESSAGE).map((m) => m.chat_message?.message),
  };
}

test("[finding 5] single instance (control): the CLIENT_HELLO's display_name reaches the room and late joiners", async () => {
  const r = await run(false);
  expect(r.name).toBe("Alice");
  expect(r.chats).toEqual(["queued behind the hello"]);
});

test("[finding 5] shared backend: the CLIENT_HELLO's display_name reaches every instance's late joiners, and the queued frame follows it", async () => {
  const r = await run(true);
  expect(r.name).toBe("Alice");
  expect([r.joinName, ...r.updates]).toContain("Alice");
  expect(r.chats).toEqual(["queued behind the hello"]);
});
