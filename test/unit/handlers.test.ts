import { describe, expect, test } from "bun:test";
import { encodeCounts, toJsonText } from "../../src/protocol/codec.ts";
import { decodeBinary, encodeBinary } from "../../src/protocol/proto.ts";
import { MessageType, type Envelope } from "../../src/protocol/types.ts";
import { memoryHub } from "../helpers/hub.ts";

const json = (m: Envelope) => toJsonText(m);
const chat = (text: string, extra: Record<string, unknown> = {}) => JSON.stringify({ type: "CHAT_MESSAGE", payload: { message: text, ...extra } });
const errors = (c: { ofType(t: number): Envelope[] }) => c.ofType(MessageType.ERROR).map((m) => m.error!.code);

describe("stamping", () => {
  test("chat: forged from_client_id overwritten, id and server time stamped", () => {
    const { open, clock } = memoryHub();
    const a = open("r", "alice"), b = open("r", "bob");
    a.conn.message(chat("hi", { from_client_id: "mallory", timestamp: 5 }));
    const [m] = b.ofType(MessageType.CHAT_MESSAGE);
    expect(m.chat_message!.from_client_id).toBe("alice");
    expect(m.message_id).not.toBe("");
    expect(m.timestamp).toBe(clock.now());
    expect(m.chat_message!.timestamp).toBe(clock.now()); // the chat's time is the server's too
    expect(a.ofType(MessageType.CHAT_MESSAGE)).toEqual([]);
  });
  test("voice from_client_id and spawn owner_id are the sender's", () => {
    const { open } = memoryHub();
    const a = open("r", "alice"), b = open("r", "bob", { format: "protobuf" });
    a.conn.message(json({ type: MessageType.VOICE_DATA, payload: "voice_data", voice_data: { from_client_id: "x", audio_data: new Uint8Array([1]) } }));
    a.conn.message(json({ type: MessageType.ENTITY_SPAWN, payload: "entity_spawn", entity_spawn: { entity_id: "e1", owner_id: "bob" } }));
    expect(b.ofType(MessageType.VOICE_DATA)[0].voice_data!.from_client_id).toBe("alice");
    expect(b.ofType(MessageType.ENTITY_SPAWN)[0].entity_spawn!.owner_id).toBe("alice");
  });
});

describe("ownership", () => {
  test("only the owner updates, moves or despawns an entity; others get FORBIDDEN and nothing is relayed", () => {
    const { open } = memoryHub();
    const a = open("r", "alice"), b = open("r", "bob"), c = open("r", "carol");
    a.conn.message(json({ type: MessageType.ENTITY_SPAWN, payload: "entity_spawn", entity_spawn: { entity_id: "box", template_id: "cube" } }));
    b.conn.message(json({ type: MessageType.ENTITY_UPDATE, payload: "entity_update", entity_update: { entity_id: "box", components: { c: new Uint8Array([65]) } } }));
    b.conn.message(json({ type: MessageType.ENTITY_DESPAWN, payload: "entity_despawn", entity_despawn: { entity_id: "box" } }));
    b.conn.message(json({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { entity_id: "box", position: { x: 1 } } }));
    b.conn.message(json({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { entity_id: "alice", position: { x: 1 } } }));
    expect(errors(b)).toEqual(["FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "NOT_FOUND"]);
    expect(c.ofType(MessageType.ENTITY_UPDATE).length + c.ofType(MessageType.ENTITY_DESPAWN).length + c.ofType(MessageType.POSITION_UPDATE).length).toBe(0);
    a.conn.message(json({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { entity_id: "box", position: { x: 2 } } }));
    a.conn.message(json({ type: MessageType.ENTITY_DESPAWN, payload: "entity_despawn", entity_despawn: { entity_id: "box" } }));
    expect(c.ofType(MessageType.POSITION_UPDATE).length).toBe(1);
    expect(c.ofType(MessageType.ENTITY_DESPAWN)[0].entity_despawn!.entity_id).toBe("box");
  });
  test("spawning an existing id is a CONFLICT; past MAX_ENTITIES_PER_ROOM a LIMIT_EXCEEDED", () => {
    const { open } = memoryHub({ maxEntitiesPerRoom: 1 });
    const a = open("r", "alice"), b = open("r", "bob");
    const spawn = (id: string) => json({ type: MessageType.ENTITY_SPAWN, payload: "entity_spawn", entity_spawn: { entity_id: id } });
    a.conn.message(spawn("e1"));
    b.conn.message(spawn("e1"));
    b.conn.message(spawn("e2"));
    expect(errors(b)).toEqual(["CONFLICT", "LIMIT_EXCEEDED"]);
  });
});

describe("presence and world state", () => {
  test("join, hello/presence updates and leave reach the others; the leaver's entities are despawned", () => {
    const { open } = memoryHub();
    const a = open("r", "alice", { displayName: "Alice" });
    const b = open("r", "bob");
    const join = a.ofType(MessageType.PRESENCE_JOIN)[0].presence_event!;
    expect(join.client_id).toBe("bob");
    b.conn.message(JSON.stringify({ type: "CLIENT_HELLO", display_name: "Bobby" }));
    expect(a.ofType(MessageType.PRESENCE_UPDATE)[0].presence_event!.data!.display_name).toBe("Bobby");
    b.conn.message(JSON.stringify({ type: "PRESENCE_UPDATE", data: { avatar_url: "https://x/a.glb" } }));
    expect(a.ofType(MessageType.PRESENCE_UPDATE)[1].presence_event!.data).toMatchObject({ display_name: "Bobby", avatar_url: "https://x/a.glb" });
    b.conn.message(JSON.stringify({ type: "PRESENCE_JOIN" }));
    expect(errors(b)).toEqual(["FORBIDDEN"]);
    b.conn.message(json({ type: MessageType.ENTITY_SPAWN, payload: "entity_spawn", entity_spawn: { entity_id: "bobs" } }));
    b.conn.closed(1006, "");
    expect(a.ofType(MessageType.ENTITY_DESPAWN)[0].entity_despawn!.entity_id).toBe("bobs");
    expect(a.ofType(MessageType.PRESENCE_LEAVE)[0].presence_event!.client_id).toBe("bob");
  });
  test("a late joiner's hello carries players (with poses) and entities (with merged components)", () => {
    const { open } = memoryHub();
    const a = open("r", "alice", { displayName: "Alice" });
    a.conn.message(json({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { position: { x: 1, y: 2, z: 3 } } }));
    a.conn.message(json({ type: MessageType.ENTITY_SPAWN, payload: "entity_spawn", entity_spawn: { entity_id: "box", template_id: "cube", components: { color: "red" } } }));
    a.conn.message(json({ type: MessageType.ENTITY_UPDATE, payload: "entity_update", entity_update: { entity_id: "box", components: { size: new TextEncoder().encode("2") } } }));
    a.conn.message(json({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { entity_id: "box", position: { x: 9 } } }));
    const late = open("r", "zed", { format: "protobuf" });
    const hello = JSON.parse(late.t.sent[0] as string);
    expect(hello.initial_state.players.find((p: any) => p.client_id === "alice")).toMatchObject({ display_name: "Alice", position: { x: 1, y: 2, z: 3 } });
    expect(hello.initial_state.entities).toEqual([expect.objectContaining({ id: "box", template_id: "cube", owner_id: "alice", components: { color: "red", size: "2" }, position: { x: 9, y: 0, z: 0 } })]);
    const pb = decodeBinary(late.t.sent[1] as Uint8Array);
    expect(pb.server_hello!.initial_state!.entities![0].components).toEqual({ color: "red", size: "2" });
    expect(pb.server_hello!.assigned_client_id).toBe("zed");
  });
});

describe("routing", () => {
  test("cross-format: a JSON chat reaches a protobuf peer decodable, and the reverse", () => {
    const { open } = memoryHub();
    const j = open("r", "j"), p = open("r", "p", { format: "protobuf" });
    j.conn.message(chat("from json"));
    const bin = p.t.sent.at(-1) as Uint8Array;
    expect(decodeBinary(bin).chat_message!.message).toBe("from json");
    p.conn.message(encodeBinary({ type: MessageType.CHAT_MESSAGE, payload: "chat_message", chat_message: { message: "from pb" } }));
    expect(JSON.parse(j.t.sent.at(-1) as string).payload.message).toBe("from pb");
  });
  test("a broadcast to 50 recipients encodes once per format, reliable or not", () => {
    const { open } = memoryHub({ interestMinRoomSize: 0 }); // 51 members: pinned to the per-message relay
    const sender = open("r", "s");
    const peers = Array.from({ length: 50 }, (_, i) => open("r", `c${i}`, { format: i % 2 ? "protobuf" : "json" }));
    for (const frame of [chat("to all"), json({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { position: { x: 1 } } })]) {
      const before = { ...encodeCounts };
      sender.conn.message(frame);
      expect(encodeCounts.json - before.json).toBe(1);
      expect(encodeCounts.protobuf - before.protobuf).toBe(1);
    }
    for (const p of peers) expect(p.ofType(MessageType.CHAT_MESSAGE).length + p.ofType(MessageType.POSITION_UPDATE).length).toBe(2);
  });
  test("whispers reach only their target; pings are answered in their own format and not relayed", () => {
    const { open } = memoryHub();
    const a = open("r", "a", { format: "protobuf" }), b = open("r", "b"), c = open("r", "c");
    a.conn.message(chat("psst", { type: "WHISPER", to_client_id: "b" }));
    expect(b.ofType(MessageType.CHAT_MESSAGE).length).toBe(1);
    expect(c.ofType(MessageType.CHAT_MESSAGE).length).toBe(0);
    a.conn.message('{"type":255}');
    const pong = a.t.sent.at(-1);
    expect(typeof pong).toBe("string");
    expect(JSON.parse(pong as string).type).toBe("PONG");
    a.conn.message(encodeBinary({ type: MessageType.PING, payload: "ping", ping: { client_time: 7 } }));
    expect(decodeBinary(a.t.sent.at(-1) as Uint8Array).pong!.client_time).toBe(7);
    expect(b.messages().some((m) => m.type === MessageType.PING || m.type === MessageType.PONG)).toBe(false);
  });
  test("bad frames get an ERROR BAD_MESSAGE with the ref; the connection stays and nobody else hears", () => {
    const { open, hub } = memoryHub();
    const a = open("r", "a"), b = open("r", "b");
    const before = b.t.sent.length;
    a.conn.message(new Uint8Array([0xff, 0xff, 0xff]));
    a.conn.message('{"type":"CHAT_MESSAGE","message_id":"m7","message":{}}');
    a.conn.message('{"type":"SERVER_HELLO"}');
    expect(errors(a)).toEqual(["BAD_MESSAGE", "BAD_MESSAGE", "BAD_MESSAGE"]);
    expect(a.ofType(MessageType.ERROR)[1].error!.ref_message_id).toBe("m7");
    expect(a.t.closedWith).toBeUndefined();
    expect(b.t.sent.length).toBe(before);
    expect(hub.metrics.errorsByCode.get("BAD_MESSAGE")).toBe(3);
  });
});
