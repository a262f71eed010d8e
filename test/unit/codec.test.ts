import { describe, expect, test } from "bun:test";
import { decodeServerFrame } from "../../src/client/decode.ts";
import { Outbound, parseBinary, parseText, toJsonText } from "../../src/protocol/codec.ts";
import { encodeBinary } from "../../src/protocol/proto.ts";
import { MessageType, type Envelope } from "../../src/protocol/types.ts";
import { SAMPLES } from "../helpers/samples.ts";

const typed = (text: string) => {
  const r = parseText(text);
  if (r.kind !== "typed") throw new Error(`expected typed, got ${r.kind}: ${"error" in r ? r.error.message : ""}`);
  return r.msg;
};
const badReason = (text: string) => {
  const r = parseText(text);
  if (r.kind !== "bad") throw new Error(`expected bad, got ${r.kind}`);
  return r.error.message;
};


describe("JSON text frames", () => {
  test("the seed's chat form: top-level text becomes the message", () => {
    const m = typed('{"type":"CHAT_MESSAGE","text":"Hello from wscat!"}');
    expect(m.payload).toBe("chat_message");
    expect(m.chat_message!.message).toBe("Hello from wscat!");
  });
  test("fields at top level or under payload, snake_case or camelCase, enum names or numbers", () => {
    const a = typed('{"type":"POSITION_UPDATE","payload":{"entityId":"e1","position":{"x":1,"y":2,"z":3},"sequenceNumber":4}}');
    const b = typed('{"type":10,"entity_id":"e1","position":{"x":1,"y":2,"z":3},"sequence_number":4}');
    expect(a.position_update).toEqual(b.position_update!);
    expect(typed('{"type":"CHAT_MESSAGE","payload":{"message":"x","type":"SHOUT"}}').chat_message!.type).toBe(2);
    expect(typed('{"type":"CHAT_MESSAGE","message":"x","chat_type":1}').chat_message!.type).toBe(1);
  });
  test("map keys are kept as sent and bytes come from base64", () => {
    const m = typed('{"type":"ENTITY_UPDATE","entity_id":"e","components":{"some_key":"aGk=","camelKey":"aGk="}}');
    expect(Object.keys(m.entity_update!.components!)).toEqual(["some_key", "camelKey"]);
    expect([...m.entity_update!.components!.some_key]).toEqual([104, 105]);
  });
  test("unknown types and non-JSON text are raw; pings are typed", () => {
    for (const t of ['{"type":"TEST_MESSAGE","data":1}', "hello", "[1,2]", '{"no":"type"}', "{broken", '"str"', "42"]) expect(parseText(t).kind).toBe("raw");
    expect(typed('{"type":255}').payload).toBe("ping");
    expect(typed('{"type":"PING"}').payload).toBe("ping");
  });
  test("invalid fields of a known type are refused with a reason naming the field", () => {
    expect(badReason('{"type":"POSITION_UPDATE","position":{"x":"a"}}')).toContain("position_update.position.x");
    expect(badReason('{"type":"CHAT_MESSAGE","message":5}')).toContain("chat_message.message");
    expect(badReason('{"type":"CHAT_MESSAGE","payload":{"type":"YELL"}}')).toContain("NORMAL, WHISPER, SHOUT");
    expect(badReason('{"type":"ENTITY_UPDATE","components":{"k":"@@@"}}')).toContain("base64");
    expect(badReason('{"type":"POSITION_UPDATE","sequence_number":-1}')).toContain("sequence_number");
    expect(badReason('{"type":"VOICE_DATA","sequence_number":1.5}')).toContain("whole number");
    expect(badReason('{"type":"UNKNOWN"}')).toContain("not one a client may send");
    expect(badReason('{"type":"PRESENCE_JOIN","payload":{"event_type":"LEAVE"}}')).toContain("event_type");
    expect(parseText('{"type":"CHAT_MESSAGE","message_id":"m9","message":[]}')).toMatchObject({ kind: "bad", ref: "m9" });
  });
});

describe("binary frames", () => {
  test("garbage and mismatched payloads are refused", () => {
    expect("error" in parseBinary(new Uint8Array([0, 1, 2]))).toBe(true);
    expect("error" in parseBinary(new Uint8Array())).toBe(true);
    const mismatch = encodeBinary({ type: MessageType.CHAT_MESSAGE, payload: "position_update", position_update: { entity_id: "x" } } as Envelope);
    const r = parseBinary(mismatch);
    expect("error" in r && r.error.message).toContain("chat_message");
  });
});

describe("round trips of every kind, both formats", () => {
  for (const sample of SAMPLES) {
    test(`${sample.payload}: protobuf → JSON → back`, () => {
      const msg = { ...sample, message_id: "m1", timestamp: 1700000000123 } as Envelope;
      const out = new Outbound(msg);
      const fromPb = parseBinary(out.protobuf());
      if ("error" in fromPb) throw fromPb.error;
      const viaClientJson = decodeServerFrame(out.json());
      expect(viaClientJson.kind).toBe("message");
      const fromJson = (viaClientJson as { msg: Envelope }).msg;
      const kase = sample.payload!;
      const norm = (v: unknown) => JSON.parse(toJsonText({ type: sample.type, payload: kase, [kase]: v } as Envelope)).payload ?? JSON.parse(toJsonText({ type: sample.type, payload: kase, [kase]: v } as Envelope));
      expect(norm(fromPb.msg[kase])).toEqual(norm(sample[kase]));
      expect(norm(fromJson[kase])).toEqual(norm(sample[kase]));
      expect(fromJson.message_id).toBe("m1");
      expect(fromJson.timestamp).toBe(1700000000123);
    });
  }
  test("a client JSON frame (as the SDK writes it) parses back to the same message", () => {
    for (const sample of SAMPLES) {
      const text = toJsonText({ ...sample, message_id: "x" } as Envelope);
      const back = parseText(text);
      expect(back.kind).toBe("typed");
    }
  });
});

describe("Outbound", () => {
  test("encodes at most once per format however often asked", () => {
    const o = new Outbound({ ...SAMPLES[6] } as Envelope);
    const a = o.json(), b = o.json(), c = o.protobuf(), d = o.protobuf();
    expect(a).toBe(b);
    expect(c).toBe(d);
  });
});
