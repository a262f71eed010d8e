/**
 * [sdk] The SDK's room state and JSON codec, without sockets: snapshots reconcile into events,
 * server messages merge as the server's world merges them, own sends apply locally and are
 * undone when the server refuses them, and the JSON codec's field lists match the schema.
 */
import { describe, expect, test } from "bun:test";
import protobuf from "protobufjs/light.js";
import { decodeJson, encodeJson, JSON_BYTES, JSON_ENUMS, type HelloInfo } from "../../src/client/json.ts";
import { decodeBinary, encodeBinary } from "../../src/client/protobuf.ts";
import { RoomState, type EntityChange, type HoldChange, type HostChange, type PoseChange, type PresenceChange } from "../../src/client/room.ts";
import { MessageProto } from "../../src/protocol/proto.ts";
import { MessageType, PAYLOAD_OF_TYPE, type Envelope } from "../../src/protocol/types.ts";
import { CloseCode, reconnectAdvice } from "../../src/errors.ts";

type Logged = ["presence", PresenceChange] | ["entity", EntityChange] | ["position", PoseChange] | ["hold", HoldChange] | ["host", HostChange];
function room() {
  const log: Logged[] = [];
  const r = new RoomState({
    presence: (e) => log.push(["presence", e]), entity: (e) => log.push(["entity", e]), position: (e) => log.push(["position", e]),
    hold: (e) => log.push(["hold", e]), host: (e) => log.push(["host", e]),
  });
  const short = () => log.splice(0).map(([k, e]) =>
    k === "hold" ? `hold:${e.kind}:${e.entity_id}:${e.client_id}:${e.source}`
    : k === "host" ? `host:${e.host_client_id}:${e.source}`
    : `${k}:${"kind" in e ? e.kind : e.target}:${"client_id" in e ? e.client_id : e.entity_id}:${e.source}`);
  return { r, log, short };
}
const hello = (players: Record<string, unknown>[], entities: Record<string, unknown>[] = [], extra: Partial<HelloInfo> = {}): HelloInfo =>
  ({ type: "SERVER_HELLO", room_id: "r", client_id: "me", connection_id: "c", server_version: "t", timestamp: 0, user_id: null, format: "json", initial_state: { players, entities }, ...extra });
const msg = (type: number, body: Record<string, unknown>, message_id = ""): Envelope => {
  const kase = PAYLOAD_OF_TYPE[type]!;
  return { type, message_id, payload: kase, [kase]: body } as Envelope;
};
const box = { id: "box", template_id: "cube", owner_id: "me", components: { color: "red" } };

describe("snapshots", () => {
  test("the first hello announces everyone (you too) and every entity", () => {
    const { r, short } = room();
    r.reset(hello([{ client_id: "me", display_name: "Me" }, { client_id: "ann", display_name: "Ann", position: { x: 1, y: 2, z: 3 } }], [box]));
    expect(short()).toEqual(["presence:join:me:snapshot", "presence:join:ann:snapshot", "entity:spawn:box:snapshot"]);
    expect(r.players.get("ann")).toEqual({ client_id: "ann", display_name: "Ann", position: { x: 1, y: 2, z: 3 } });
    expect(r.entities.get("box")).toEqual(box);
  });

  test("a fresh session after a gap announces exactly the differences; unchanged entries stay quiet", () => {
    const { r, short } = room();
    r.reset(hello([{ client_id: "me" }, { client_id: "ann", display_name: "Ann" }, { client_id: "bob", display_name: "Bob" }, { client_id: "dan" }], [box, { ...box, id: "lamp" }]));
    short();
    // Key order differs from the first snapshot: still "unchanged".
    r.reset(hello([{ display_name: "Ann", client_id: "ann" }, { client_id: "me" }, { client_id: "cy" }, { client_id: "bob", display_name: "Robert" }], [{ components: { color: "red" }, owner_id: "me", template_id: "cube", id: "box" }, { ...box, id: "chair" }]));
    expect(short()).toEqual(["presence:leave:dan:snapshot", "entity:despawn:lamp:snapshot", "presence:join:cy:snapshot", "presence:update:bob:snapshot", "entity:spawn:chair:snapshot"]);
    expect([...r.players.keys()].sort()).toEqual(["ann", "bob", "cy", "me"]);
  });

  test("a resumed session keeps its state (the missed messages follow) and takes only newer poses", () => {
    const { r, short } = room();
    r.reset(hello([{ client_id: "me" }, { client_id: "ann", position: { x: 0, y: 0, z: 0 } }], [box]));
    short();
    r.reset(hello([{ client_id: "me" }, { client_id: "ann", position: { x: 5, y: 0, z: 0 } }], [], { resumed: true }));
    expect(short()).toEqual(["position:player:ann:snapshot"]);
    expect(r.players.get("ann")!.position).toEqual({ x: 5, y: 0, z: 0 });
    expect(r.entities.has("box")).toBe(true);
  });
});

describe("server messages", () => {
  test("presence merges like the server: unset and empty fields keep their value; leave removes", () => {
    const { r, short } = room();
    r.reset(hello([{ client_id: "me" }]));
    short();
    r.apply(msg(MessageType.PRESENCE_JOIN, { client_id: "ann", event_type: 0, data: { display_name: "Ann" } }));
    r.apply(msg(MessageType.PRESENCE_UPDATE, { client_id: "ann", event_type: 2, data: { display_name: "", avatar_url: "a.glb", position: { x: 1 } } }));
    expect(r.players.get("ann")).toEqual({ client_id: "ann", display_name: "Ann", avatar_url: "a.glb", position: { x: 1, y: 0, z: 0 } });
    r.apply(msg(MessageType.PRESENCE_LEAVE, { client_id: "ann", event_type: 1 }));
    expect(short()).toEqual(["presence:join:ann:server", "presence:update:ann:server", "presence:leave:ann:server"]);
    expect(r.players.has("ann")).toBe(false);
  });

  test("protobuf-decoded payloads (defaults on the prototype) become the same plain state", () => {
    const { r } = room();
    r.reset(hello([{ client_id: "me" }]));
    const wire = encodeBinary(msg(MessageType.PRESENCE_JOIN, { client_id: "ann", event_type: 0, data: { display_name: "Ann", position: { x: 0, y: 0, z: 2 } } }));
    r.apply(decodeBinary(wire));
    expect(r.players.get("ann")).toEqual({ client_id: "ann", display_name: "Ann", position: { x: 0, y: 0, z: 2 } });
    expect(JSON.parse(JSON.stringify(r.players.get("ann")))).toEqual({ client_id: "ann", display_name: "Ann", position: { x: 0, y: 0, z: 2 } });
  });

  test("ENTITY_UPDATE merges components as text (UTF-8, else base64:); poses move players and entities", () => {
    const { r, log, short } = room();
    r.reset(hello([{ client_id: "me" }, { client_id: "ann" }], [{ ...box, owner_id: "ann" }]));
    short();
    r.apply(msg(MessageType.ENTITY_UPDATE, { entity_id: "box", components: { color: new TextEncoder().encode("blue"), blob: new Uint8Array([0xff, 0]) } }));
    expect(r.entities.get("box")!.components).toEqual({ color: "blue", blob: "base64:/wA=" });
    expect((log[0]![1] as EntityChange).components).toEqual({ color: "blue", blob: "base64:/wA=" });
    r.apply(msg(MessageType.POSITION_UPDATE, { entity_id: "box", position: { x: 3, y: 0, z: 1 } }));
    r.apply(msg(MessageType.POSITION_UPDATE, { entity_id: "ann", position: { x: 1, y: 1, z: 1 }, rotation: { x: 0, y: 0, z: 0, w: 1 } }));
    r.apply(msg(MessageType.POSITION_UPDATE, { entity_id: "ghost", position: { x: 1, y: 1, z: 1 } }));
    expect(r.entities.get("box")!.position).toEqual({ x: 3, y: 0, z: 1 });
    expect(r.players.get("ann")).toMatchObject({ position: { x: 1, y: 1, z: 1 }, rotation: { x: 0, y: 0, z: 0, w: 1 } });
    r.apply(msg(MessageType.ENTITY_DESPAWN, { entity_id: "box" }));
    expect(short()).toEqual(["entity:update:box:server", "position:entity:box:server", "position:player:ann:server", "position:unknown:ghost:server", "entity:despawn:box:server"]);
  });
});

describe("own sends", () => {
  test("spawn, update, despawn and your pose apply locally; another client's entity is left to the server", () => {
    const { r, short } = room();
    r.reset(hello([{ client_id: "me" }], [{ ...box, id: "theirs", owner_id: "ann" }]));
    short();
    r.applyLocal(msg(MessageType.ENTITY_SPAWN, { entity_id: "mine", template_id: "cube", components: { color: "red" } }, "m1"));
    r.applyLocal(msg(MessageType.ENTITY_UPDATE, { entity_id: "mine", components: { color: new TextEncoder().encode("blue") } }, "m2"));
    r.applyLocal(msg(MessageType.ENTITY_UPDATE, { entity_id: "theirs", components: { color: new TextEncoder().encode("blue") } }, "m3"));
    r.applyLocal(msg(MessageType.POSITION_UPDATE, { entity_id: "", position: { x: 1, y: 0, z: 0 } }, "m4"));
    r.applyLocal(msg(MessageType.PRESENCE_UPDATE, { event_type: 2, data: { display_name: "New me" } }, "m5"));
    expect(short()).toEqual(["entity:spawn:mine:local", "entity:update:mine:local", "position:player:me:local", "presence:update:me:local"]);
    expect(r.entities.get("mine")).toEqual({ id: "mine", template_id: "cube", owner_id: "me", components: { color: "blue" } });
    expect(r.entities.get("theirs")!.components.color).toBe("red");
    expect(r.players.get("me")).toEqual({ client_id: "me", display_name: "New me", position: { x: 1, y: 0, z: 0 } });
    r.applyLocal(msg(MessageType.ENTITY_DESPAWN, { entity_id: "mine" }, "m6"));
    expect(r.entities.has("mine")).toBe(false);
  });

  test("an ERROR naming an own send undoes exactly that send", () => {
    const { r, short } = room();
    r.reset(hello([{ client_id: "me" }], [box]));
    short();
    r.applyLocal(msg(MessageType.ENTITY_SPAWN, { entity_id: "extra", template_id: "x" }, "s1"));
    r.applyLocal(msg(MessageType.ENTITY_UPDATE, { entity_id: "box", components: { color: new TextEncoder().encode("blue"), size: new TextEncoder().encode("2") } }, "u1"));
    r.applyLocal(msg(MessageType.ENTITY_DESPAWN, { entity_id: "box" }, "d1"));
    short();
    r.revert("d1");
    r.revert("u1");
    r.revert("s1");
    r.revert("unknown");
    expect(short()).toEqual(["entity:spawn:box:revert", "entity:update:box:revert", "entity:despawn:extra:revert"]);
    expect(r.entities.get("box")).toEqual(box);
    expect(r.entities.has("extra")).toBe(false);
  });

  test("a refused presence update is undone, field by field, unless changed since", () => {
    const { r, short } = room();
    r.reset(hello([{ client_id: "me", display_name: "Me", position: { x: 0, y: 0, z: 0 } }]));
    short();
    r.applyLocal(msg(MessageType.PRESENCE_UPDATE, { event_type: 2, data: { display_name: "Renamed", avatar_url: "a.glb" } }, "p1"));
    r.applyLocal(msg(MessageType.PRESENCE_UPDATE, { event_type: 2, data: { avatar_url: "b.glb" } }, "p2"));
    r.applyLocal(msg(MessageType.POSITION_UPDATE, { position: { x: 5, y: 0, z: 0 } }, "m"));
    r.revert("p1");
    expect(r.players.get("me")).toEqual({ client_id: "me", display_name: "Me", avatar_url: "b.glb", position: { x: 5, y: 0, z: 0 } });
    expect(short()).toEqual(["presence:update:me:local", "presence:update:me:local", "position:player:me:local", "presence:update:me:revert"]);
  });

  test("an undo never clobbers what the server said since", () => {
    const { r } = room();
    r.reset(hello([{ client_id: "me" }]));
    r.applyLocal(msg(MessageType.ENTITY_SPAWN, { entity_id: "same", template_id: "mine" }, "s1"));
    // Someone else won the race for the id: their spawn arrives, then our CONFLICT.
    r.apply(msg(MessageType.ENTITY_SPAWN, { entity_id: "same", template_id: "theirs", owner_id: "ann" }));
    r.revert("s1");
    expect(r.entities.get("same")).toMatchObject({ template_id: "theirs", owner_id: "ann" });
  });
});

describe("host and holds", () => {
  test("the host comes from the hello, joins and leaves, and the PRESENCE_UPDATE announcing it; a change is one event", () => {
    const { r, short } = room();
    r.reset(hello([{ client_id: "me" }, { client_id: "ann", joined_at: 5 }], [], { host_client_id: "ann" }));
    expect(short()).toEqual(["presence:join:me:snapshot", "presence:join:ann:snapshot", "host:ann:snapshot"]);
    expect(r.players.get("ann")!.joined_at).toBe(5);
    r.apply(msg(MessageType.PRESENCE_JOIN, { client_id: "bob", event_type: 0, data: { display_name: "Bob", joined_at: 9, host_client_id: "ann" } }));
    r.apply(msg(MessageType.PRESENCE_LEAVE, { client_id: "ann", event_type: 1, data: { host_client_id: "me" } }));
    r.apply(msg(MessageType.PRESENCE_UPDATE, { client_id: "me", event_type: 2, data: { host_client_id: "me" } }));
    expect(short()).toEqual(["presence:join:bob:server", "presence:leave:ann:server", "host:me:server", "presence:update:me:server"]);
    expect(r.host).toBe("me");
    // A resumed session keeps its host: the replay that follows tells the changes in order.
    r.reset(hello([{ client_id: "me" }], [], { resumed: true, host_client_id: "bob" }));
    expect(r.host).toBe("me");
    r.reset(hello([{ client_id: "me" }, { client_id: "bob" }], [], { host_client_id: "bob" }));
    expect(short()).toContain("host:bob:snapshot");
  });

  test("holds: from the snapshot, grabs and releases, released when the holder leaves", () => {
    const { r, log, short } = room();
    r.reset(hello([{ client_id: "me" }, { client_id: "ann", holding: [{ entity_id: "cup", client_id: "ann", position: { x: 1, y: 0, z: 0 }, timestamp: 3 }] }]));
    expect(short()).toEqual(["presence:join:me:snapshot", "presence:join:ann:snapshot", "hold:grab:cup:ann:snapshot"]);
    expect(r.holds.map.get("cup")).toEqual({ entity_id: "cup", client_id: "ann", position: { x: 1, y: 0, z: 0 }, timestamp: 3 });
    expect(r.players.get("ann")).toEqual({ client_id: "ann" });
    r.apply(msg(MessageType.OBJECT_GRAB, { entity_id: "ball", client_id: "ann", timestamp: 4 }));
    r.apply(msg(MessageType.OBJECT_RELEASE, { entity_id: "cup", client_id: "ann", position: { x: 2, y: 0, z: 0 }, velocity: { x: 0, y: 1, z: 0 } }));
    expect((log.at(-1)![1] as HoldChange)).toMatchObject({ kind: "release", position: { x: 2, y: 0, z: 0 }, velocity: { x: 0, y: 1, z: 0 }, self: false });
    r.apply(msg(MessageType.PRESENCE_LEAVE, { client_id: "ann", event_type: 1 }));
    r.apply(msg(MessageType.OBJECT_RELEASE, { entity_id: "ball", client_id: "ann" })); // the server's, after the leave: nothing left
    expect(short()).toEqual(["hold:grab:ball:ann:server", "hold:release:cup:ann:server", "presence:leave:ann:server", "hold:release:ball:ann:server"]);
    expect(r.holds.map.size).toBe(0);
    // A fresh snapshot announces the differences.
    r.reset(hello([{ client_id: "me" }, { client_id: "bob", holding: [{ entity_id: "cup", client_id: "bob" }] }]));
    expect(short()).toEqual(["presence:join:bob:snapshot", "hold:grab:cup:bob:snapshot"]);
  });

  test("own grabs and releases apply locally; an ERROR undoes them unless the server said otherwise since", () => {
    const { r, short } = room();
    r.reset(hello([{ client_id: "me" }, { client_id: "ann", holding: [{ entity_id: "theirs", client_id: "ann" }] }]));
    short();
    r.applyLocal(msg(MessageType.OBJECT_GRAB, { entity_id: "cup" }, "g1"));
    r.applyLocal(msg(MessageType.OBJECT_GRAB, { entity_id: "theirs" }, "g2")); // held by ann: left to the server
    r.applyLocal(msg(MessageType.OBJECT_RELEASE, { entity_id: "nobody's" }, "r0"));
    expect(short()).toEqual(["hold:grab:cup:me:local"]);
    r.revert("g1");
    expect(short()).toEqual(["hold:release:cup:me:revert"]);
    // Both grab "ball" at once; ann's grab arrives, then our CONFLICT: ann keeps it.
    r.applyLocal(msg(MessageType.OBJECT_GRAB, { entity_id: "ball" }, "g3"));
    r.apply(msg(MessageType.OBJECT_GRAB, { entity_id: "ball", client_id: "ann" }));
    r.revert("g3");
    expect(r.holds.map.get("ball")!.client_id).toBe("ann");
    // A release of our own hold, refused: the hold comes back.
    r.applyLocal(msg(MessageType.OBJECT_GRAB, { entity_id: "mug" }, "g4"));
    r.accepted("g4");
    r.revert("g4"); // accepted: its undo step is gone
    expect(r.holds.map.get("mug")!.client_id).toBe("me");
    r.applyLocal(msg(MessageType.OBJECT_RELEASE, { entity_id: "mug", velocity: { x: 1, y: 0, z: 0 } }, "r1"));
    expect(r.holds.map.has("mug")).toBe(false);
    r.revert("r1");
    expect(r.holds.map.get("mug")!.client_id).toBe("me");
    expect(short()).toEqual(["hold:grab:ball:me:local", "hold:grab:ball:ann:server", "hold:grab:mug:me:local", "hold:release:mug:me:local", "hold:grab:mug:me:revert"]);
  });
});

describe("JSON codec", () => {
  test("its enum and bytes lists name every enum and bytes field a payload can carry (the schema decides)", () => {
    const enums: string[] = [];
    const bytes: string[] = [];
    const walk = (type: protobuf.Type, path: string, seen: Set<protobuf.Type>) => {
      for (const f of type.fieldsArray) {
        const p = `${path}.${f.name}`;
        if (f.resolvedType instanceof protobuf.Enum) enums.push(p);
        else if (f.type === "bytes") bytes.push(p);
        else if (f.resolvedType instanceof protobuf.Type && !seen.has(f.resolvedType)) walk(f.resolvedType, p, new Set([...seen, f.resolvedType]));
      }
    };
    // Server-sent payloads that the SDK decodes from JSON (the hello's world state stays JSON).
    for (const kase of new Set(Object.values(PAYLOAD_OF_TYPE))) {
      if (!kase || kase === "server_hello" || kase === "client_hello") continue;
      walk(MessageProto.fields[kase]!.resolvedType as protobuf.Type, kase, new Set());
    }
    expect(enums.sort()).toEqual(Object.keys(JSON_ENUMS).sort());
    expect(bytes.sort()).toEqual(Object.keys(JSON_BYTES).sort());
  });

  test("decodes typed, flat and raw frames and never throws", () => {
    const chat = decodeJson('{"type":"CHAT_MESSAGE","message_id":"m","timestamp":5,"seq":3,"epoch":9,"payload":{"from_client_id":"a","message":"hi","type":"WHISPER","to_client_id":"b"}}');
    expect(chat).toEqual({ kind: "message", msg: { type: 30, message_id: "m", timestamp: 5, seq: 3, epoch: 9, payload: "chat_message", chat_message: { from_client_id: "a", message: "hi", type: 1, to_client_id: "b" } } as Envelope });
    const err = decodeJson('{"type":"ERROR","message_id":"x","timestamp":1,"code":"FORBIDDEN","message":"No","ref_message_id":"m1"}');
    expect(err.kind === "message" && err.msg.error).toEqual({ code: "FORBIDDEN", message: "No", ref_message_id: "m1" });
    // ACCEPTED is unsequenced: its seq/epoch (under payload) are the accepted message's, never the envelope's.
    const accepted = decodeJson('{"type":"ACCEPTED","message_id":"a","timestamp":2,"payload":{"ref_message_id":"m1","seq":41,"epoch":7}}');
    expect(accepted.kind === "message" && [accepted.msg.seq, accepted.msg.epoch, accepted.msg.accepted]).toEqual([0, 0, { ref_message_id: "m1", seq: 41, epoch: 7 }]);
    const voice = decodeJson('{"type":"VOICE_DATA","payload":{"audio_data":"AQL/","codec":"PCMU"}}');
    expect(voice.kind === "message" && voice.msg.voice_data).toEqual({ audio_data: new Uint8Array([1, 2, 255]), codec: 1 });
    for (const raw of ["plain text", "[1,2]", "null", '{"type":"TEST_MESSAGE"}', '{"type":"VOICE_DATA","payload":{"audio_data":"!!"}}', '{"type":"CHAT_MESSAGE","payload":7}']) {
      expect(decodeJson(raw)).toEqual({ kind: "raw", data: raw });
    }
  });

  test("encodes what the server reads: type by name, bytes as base64", () => {
    const text = encodeJson(msg(MessageType.ENTITY_UPDATE, { entity_id: "e", components: { c: new Uint8Array([0, 255]) } }, "id1"));
    expect(JSON.parse(text)).toMatchObject({ type: "ENTITY_UPDATE", message_id: "id1", payload: { entity_id: "e", components: { c: "AP8=" } } });
  });
});

test("the SDK never reconnects after a borrowed client id (4409), a takeover (4410) or a kick (4430)", () => {
  expect([CloseCode.CLIENT_ID_CONFLICT, CloseCode.REPLACED, CloseCode.KICKED].map(reconnectAdvice)).toEqual(["never", "never", "never"]);
});
