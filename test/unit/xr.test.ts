/** The xr codec (GraphWiz-XR's frames) and the three-format fan-out, on an in-memory hub. */
import { describe, expect, test } from "bun:test";
import { metricsJson } from "../../src/core/metrics-view.ts";
import { encodeCounts, parseBinary } from "../../src/protocol/codec.ts";
import { encodeBinary } from "../../src/protocol/proto.ts";
import { MessageType, type Envelope } from "../../src/protocol/types.ts";
import { encodeXr, isXrFrame } from "../../src/protocol/xr.ts";
import { memoryHub } from "../helpers/hub.ts";
import { SAMPLES } from "../helpers/samples.ts";
import { parseXrStrict, xrFrame, XR } from "../helpers/xr-client.ts";

const ab = (u: Uint8Array | string) => (u as Uint8Array).slice().buffer as ArrayBuffer;

describe("xr codec", () => {
  test("a frame in the issue's layout decodes to the typed message, camelCase and snake_case alike", () => {
    const f = xrFrame(XR.CHAT_MESSAGE, { fromClientId: "x", message: "hé ✓", timestamp: 7, type: 1, toClientId: "bob" }, "m-1", 1_700_000_000_123);
    expect(isXrFrame(f)).toBe(true);
    const r = parseBinary(f);
    expect(r).toMatchObject({ xr: true, msg: { type: 30, message_id: "m-1", timestamp: 1_700_000_000_123, payload: "chat_message", chat_message: { from_client_id: "x", message: "hé ✓", type: 1, to_client_id: "bob" } } });
  });

  test("GraphWiz-XR's own shapes: flat PRESENCE_UPDATE, JSON component values, empty payload", () => {
    const p = parseBinary(xrFrame(XR.PRESENCE_UPDATE, { clientId: "c", displayName: "Ann", avatarConfig: { bodyType: "human", height: 1.7 } }));
    expect(p).toMatchObject({ msg: { presence_event: { event_type: 2, data: { display_name: "Ann", avatar_config: { body_type: "human" } } } } });
    const s = parseBinary(xrFrame(XR.ENTITY_SPAWN, { entityId: "e", templateId: "t", components: { position: { x: 1 }, n: 3, s: "str" } }));
    expect(s).toMatchObject({ msg: { entity_spawn: { components: { position: '{"x":1}', n: "3", s: "str" } } } });
    const u = parseBinary(xrFrame(XR.ENTITY_UPDATE, { entityId: "e", components: { position: { x: 2 } } })) as { msg: Envelope };
    expect(new TextDecoder().decode(u.msg.entity_update!.components!.position)).toBe('{"x":2}');
    const d = parseBinary(xrFrame(XR.ENTITY_DESPAWN, undefined));
    expect(d).toMatchObject({ msg: { entity_despawn: {} } });
    const v = parseBinary(xrFrame(XR.VOICE_DATA, { audioData: { 0: 1, 1: 255 }, codec: 0 })) as { msg: Envelope };
    expect([...v.msg.voice_data!.audio_data!]).toEqual([1, 255]);
  });

  test("bad xr frames are refused with a reason and the frame's messageId", () => {
    const bad = (type: number, payload: unknown) => parseBinary(xrFrame(type, payload, "ref-1"));
    expect(bad(XR.CHAT_MESSAGE, { message: 5 })).toMatchObject({ ref: "ref-1" });
    expect(bad(XR.PRESENCE_UPDATE, { clientId: "c", eventType: 0 })).toMatchObject({ ref: "ref-1" }); // eventType ≠ the type's
    const notJson = xrFrame(XR.CHAT_MESSAGE, undefined, "ref-2");
    const withBrace = new Uint8Array([...notJson, 0x7b, 0x78]);
    expect(parseBinary(withBrace)).toMatchObject({ ref: "ref-2" });
    expect("error" in parseBinary(withBrace)).toBe(true);
  });

  test("protobuf frames are never taken for xr frames (the samples of every kind)", () => {
    for (const m of SAMPLES) {
      const bytes = encodeBinary({ ...m, message_id: "abcdefgh", timestamp: 1_700_000_000_000 } as Envelope);
      expect(isXrFrame(bytes)).toBe(false);
      expect("msg" in parseBinary(bytes)).toBe(true);
    }
  });

  test("every sample encodes to an xr frame the strict parser accepts; PONG is the client's text", () => {
    for (const m of SAMPLES) {
      if (m.type === MessageType.PONG || m.type === MessageType.PING || m.type === MessageType.ACK || m.type === MessageType.REFRESH || m.type === MessageType.CLIENT_HELLO || m.type === MessageType.SERVER_HELLO) continue;
      const out = encodeXr({ ...m, message_id: "id", timestamp: Date.now() } as Envelope);
      const parsed = parseXrStrict(ab(out));
      expect(typeof parsed === "string" ? `${m.type}: ${parsed}` : parsed.type).toBe(m.type!);
    }
    const pong = encodeXr({ type: MessageType.PONG, message_id: "p", timestamp: 5, payload: "pong", pong: { client_time: 1, server_time: 5 } });
    expect(JSON.parse(pong as string)).toEqual({ messageId: "p", timestamp: 5, type: 255, payload: { clientTime: 1, serverTime: 5 } });
  });

  test("a message id longer than 255 bytes is cut on a character boundary", () => {
    const out = encodeXr({ type: MessageType.CHAT_MESSAGE, message_id: "é".repeat(200), timestamp: Date.now(), payload: "chat_message", chat_message: { message: "x" } });
    const parsed = parseXrStrict(ab(out));
    expect(typeof parsed).not.toBe("string");
    expect((parsed as { messageId: string }).messageId).toBe("é".repeat(127));
  });
});

describe("three formats in one room", () => {
  test("one broadcast is encoded at most once per format, whatever the recipients", () => {
    const { open, clock, hub } = memoryHub();
    const sender = open("r", "s", { format: "xr" });
    const peers = (["xr", "json", "protobuf"] as const).flatMap((f) => [open("r", `${f}1`, { format: f }), open("r", `${f}2`, { format: f })]);
    const before = { ...encodeCounts };
    sender.conn.message(xrFrame(XR.CHAT_MESSAGE, { message: "hi" }));
    expect(encodeCounts.xr - before.xr).toBe(1);
    expect(encodeCounts.json - before.json).toBe(1);
    expect(encodeCounts.protobuf - before.protobuf).toBe(1);
    // Metrics count xr frames in their own column, in and out.
    const kinds = metricsJson(hub.metricsSource).messages_by_kind as Record<string, Record<string, { received: number; sent: number }>>;
    expect(kinds.CHAT_MESSAGE).toMatchObject({ xr: { received: 1, sent: 2 }, json: { received: 0, sent: 2 }, protobuf: { received: 0, sent: 2 } });
    for (const p of peers.filter((p) => p.conn.format !== "xr")) expect(p.ofType(MessageType.CHAT_MESSAGE)[0].chat_message!.from_client_id).toBe("s");
    for (const p of peers.filter((p) => p.conn.format === "xr")) {
      const frames = p.t.sent.filter((f) => typeof f !== "string").map((f) => parseXrStrict(ab(f), clock.now()));
      expect(frames.some((m) => typeof m !== "string" && m.type === XR.CHAT_MESSAGE && m.payload.fromClientId === "s")).toBe(true);
    }
  });

  test("untyped text reaches JSON and protobuf members, never xr ones", () => {
    const { open } = memoryHub();
    const a = open("r", "a"), x = open("r", "x", { format: "xr" }), j = open("r", "j");
    a.conn.message("hello there");
    expect(j.raws()).toEqual(["hello there"]);
    expect(x.t.sent.filter((f) => f === "hello there")).toEqual([]);
  });
});

describe("host and holds", () => {
  test("the first member is host; when it leaves the longest-present one is, announced once", () => {
    const { open, clock, hub } = memoryHub();
    const a = open("r", "a");
    clock.advance(10);
    const b = open("r", "b", { format: "protobuf" });
    clock.advance(10);
    const c = open("r", "c");
    expect(JSON.parse(c.t.sent[0] as string).host_client_id).toBe("a");
    expect(c.ofType(MessageType.PRESENCE_JOIN)).toEqual([]);
    expect(a.ofType(MessageType.PRESENCE_JOIN).map((m) => m.presence_event!.data!.host_client_id)).toEqual(["a", "a"]);
    a.conn.closed(1000, "");
    const leave = c.ofType(MessageType.PRESENCE_LEAVE)[0].presence_event!;
    expect(leave).toMatchObject({ client_id: "a", data: { host_client_id: "b" } });
    const announced = c.ofType(MessageType.PRESENCE_UPDATE).map((m) => m.presence_event!);
    expect(announced).toEqual([expect.objectContaining({ client_id: "b", data: expect.objectContaining({ host_client_id: "b" }) })]);
    expect(b.ofType(MessageType.PRESENCE_UPDATE).length).toBe(1);
    c.conn.closed(1000, "");
    expect(b.ofType(MessageType.PRESENCE_UPDATE).length).toBe(1); // the host stayed: nothing to announce
    expect(hub.rooms.get("r")!.world.players.size).toBe(1);
  });

  test("joins within one millisecond keep their order: the second joiner is the next host", () => {
    const { open } = memoryHub();
    const a = open("r", "zz-first"), b = open("r", "mm-second"), c = open("r", "aa-third");
    a.conn.closed(1000, "");
    expect(c.ofType(MessageType.PRESENCE_LEAVE)[0].presence_event!.data!.host_client_id).toBe("mm-second");
    expect(b.ofType(MessageType.PRESENCE_UPDATE).map((m) => m.presence_event!.client_id)).toEqual(["mm-second"]);
  });

  test("a held object refuses other grabs, shows in late joiners' hello, and is released when its holder leaves", () => {
    const { open } = memoryHub();
    const a = open("r", "a"), b = open("r", "b");
    const grab = (from: typeof a, id: string) => from.conn.message(JSON.stringify({ type: "OBJECT_GRAB", payload: { entity_id: id, client_id: "forged", position: { x: 1 } } }));
    grab(a, "cube");
    expect(b.ofType(MessageType.OBJECT_GRAB)[0].object_grab).toMatchObject({ entity_id: "cube", client_id: "a" });
    grab(b, "cube");
    expect(b.ofType(MessageType.ERROR).map((m) => m.error!.code)).toEqual(["CONFLICT"]);
    b.conn.message(JSON.stringify({ type: "OBJECT_RELEASE", payload: { entity_id: "cube" } }));
    expect(b.ofType(MessageType.ERROR).map((m) => m.error!.code)).toEqual(["CONFLICT", "FORBIDDEN"]);
    const late = open("r", "late");
    const hello = JSON.parse(late.t.sent[0] as string);
    expect(hello.initial_state.players.find((p: any) => p.client_id === "a").holding).toEqual([expect.objectContaining({ entity_id: "cube", client_id: "a" })]);
    a.conn.closed(1006, "");
    expect(b.ofType(MessageType.OBJECT_RELEASE)[0].object_release).toMatchObject({ entity_id: "cube", client_id: "a" });
    grab(b, "cube");
    expect(late.ofType(MessageType.OBJECT_GRAB).at(-1)!.object_grab).toMatchObject({ client_id: "b" });
  });
});
