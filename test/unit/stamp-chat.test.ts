import { expect, test } from "bun:test";
import fc from "fast-check";
import { decodeChat } from "../../src/protocol/chat-decode.ts";
import { parseBinary, toJsonText } from "../../src/protocol/codec.ts";
import { decodeBinary, encodeBinary } from "../../src/protocol/proto.ts";
import { sanitizeInbound } from "../../src/protocol/sanitize.ts";
import { stampChat } from "../../src/protocol/stamp-chat.ts";
import { ChatType, MessageType, type Envelope } from "../../src/protocol/types.ts";
import { encodeXr } from "../../src/protocol/xr.ts";

const byte = (lo = 0, hi = 255) => fc.integer({ min: lo, max: hi });
function minimal(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) out.push((n % 128) + 128), (n = Math.floor(n / 128));
  out.push(n);
  return out;
}
/** A varint: mostly minimal, sometimes padded (non-minimal), a 10-byte negative int, or huge. */
const varint = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(fc.constantFrom(0, 1, 2, 30), fc.integer({ min: 0, max: 2 ** 45 })).map(minimal) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 127 }).map((v) => [v | 0x80, 0x00]) },
  { weight: 1, arbitrary: fc.constant([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]) },
);
const ld = (tag: number[], body: number[], padLen = false) => [...tag, ...(padLen ? [(body.length & 0x7f) | 0x80, body.length >> 7] : minimal(body.length)), ...body];
const utf8 = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 10 }),
  fc.constantFrom("", "seq:0000001f hello", "😀 ✓ é"),
).map((s) => [...new TextEncoder().encode(s)]);
const str = (tag: number) => fc.tuple(utf8, fc.nat(9)).map(([b, r]) => ld(r === 0 ? [tag | 0x80, 0x00] : [tag], b, r === 1));
const chatField = fc.oneof(
  { weight: 2, arbitrary: str(0x0a) }, // from_client_id (the server's wins)
  { weight: 4, arbitrary: str(0x12) }, // message
  { weight: 2, arbitrary: varint.map((v) => [0x18, ...v]) }, // timestamp (the server's wins)
  { weight: 3, arbitrary: varint.map((v) => [0x20, ...v]) }, // type
  { weight: 3, arbitrary: str(0x2a) }, // to_client_id
  { weight: 1, arbitrary: fc.tuple(byte(6, 15), varint).map(([f, v]) => [f << 3, ...v]) }, // unknown
  { weight: 1, arbitrary: fc.tuple(byte(1, 5)).map(([f]) => [(f << 3) | 5, 1, 2, 3, 4]) }, // a wrong wire type
);
const envelopeField = fc.oneof(
  { weight: 2, arbitrary: str(0x0a) },
  { weight: 2, arbitrary: varint.map((v) => [0x10, ...v]) },
  { weight: 1, arbitrary: varint.map((v) => [0x20, ...v]) },
  { weight: 1, arbitrary: varint.map((v) => [0x28, ...v]) },
  { weight: 1, arbitrary: fc.tuple(byte(6, 9), varint).map(([f, v]) => [f << 3, ...v]) },
);
const frame = fc.tuple(
  fc.array(envelopeField, { maxLength: 3 }),
  fc.array(chatField, { maxLength: 6 }),
  fc.array(envelopeField, { maxLength: 2 }),
  fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.nat(), byte()) }),
).map(([before, chat, after, flip]) => {
  const b = new Uint8Array([...before.flat(), 0x18, 30, ...ld([0xc2, 0x02], chat.flat()), ...after.flat()]);
  if (flip) b[flip[0] % b.length] = flip[1];
  return b;
});

/** What the server does with a client's chat before the log takes it (inbound.ts, handlers/chat.ts, broadcast.ts). */
function serve(raw: Uint8Array, from: string, now: number, id: string): Envelope | undefined {
  let msg: Envelope;
  try {
    msg = decodeBinary(raw);
  } catch {
    return undefined; // refused at ingress: never stamped
  }
  if (msg.payload !== "chat_message") return undefined;
  sanitizeInbound(msg);
  msg.chat_message!.from_client_id = from;
  msg.chat_message!.timestamp = now;
  msg.message_id = id;
  msg.timestamp = now;
  return msg;
}

test("a stamped chat is byte for byte the protobufjs encoding of the stamped message, whatever the client wrote", () => {
  let stamped = 0, total = 0;
  fc.assert(fc.property(frame, fc.string({ minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 2 ** 50 }), fc.constantFrom("0a1b2c3d-1", "x-zz", "é-1"), (raw, from, now, id) => {
    const msg = serve(raw, from, now, id);
    if (!msg) return;
    total++;
    const got = stampChat(raw, msg);
    if (!got) return;
    stamped++;
    expect([...got]).toEqual([...encodeBinary(msg)]);
  }), { numRuns: 20_000 });
  expect(stamped).toBeGreaterThan(total / 5); // the usual layout is reached often enough to mean something
});

test("chats as the SDK and protobufjs write them are always stamped", () => {
  fc.assert(fc.property(
    fc.record({ message: fc.string({ maxLength: 40 }), type: fc.constantFrom(ChatType.NORMAL, ChatType.WHISPER, ChatType.SHOUT), to: fc.string({ maxLength: 10 }), from: fc.string({ maxLength: 10 }), ts: fc.nat(), id: fc.string({ maxLength: 10 }) }),
    (c) => {
      const raw = encodeBinary({ type: MessageType.CHAT_MESSAGE, message_id: c.id, timestamp: c.ts, payload: "chat_message", chat_message: { message: c.message, type: c.type, to_client_id: c.to, from_client_id: c.from, timestamp: c.ts } } as Envelope);
      const msg = serve(raw, "server-side-id", 1_700_000_000_000, "abcd-1")!;
      expect([...stampChat(raw, msg)!]).toEqual([...encodeBinary(msg)]);
    },
  ), { numRuns: 1000 });
});

test("a field sent twice or with another wire type is left to protobufjs' encoder", () => {
  const twice = new Uint8Array([0x18, 30, ...ld([0xc2, 0x02], [0x12, 1, 0x61, 0x12, 1, 0x62])]);
  expect(stampChat(twice, serve(twice, "a", 5, "m")!)).toBeUndefined();
  const wrong = new Uint8Array([0x18, 30, ...ld([0xc2, 0x02], [0x15, 1, 2, 3, 4])]);
  expect(stampChat(wrong, serve(wrong, "a", 5, "m")!)).toBeUndefined();
});

// ---- the chat decoder's fast path (chat-decode.ts) against protobufjs, on the same frames ----

/** Everything a reader of a decoded chat can observe: envelope fields, the chat's own fields, values, prototype. */
function seenChat(msg: Envelope): unknown {
  const c = msg.chat_message!;
  const proto = (Object.getPrototypeOf(c) as { $type?: { fullName: string } }).$type?.fullName ?? "plain";
  const fields = ["from_client_id", "message", "timestamp", "type", "to_client_id"] as const;
  return {
    type: msg.type, payload: msg.payload, message_id: msg.message_id ?? "", timestamp: msg.timestamp ?? 0, seq: msg.seq ?? 0, epoch: msg.epoch ?? 0,
    proto, own: Object.keys(c).sort(), read: fields.map((f) => c[f]),
  };
}

test("a chat the fast path decodes is exactly what protobufjs decodes, and is served and stamped the same", () => {
  let fast = 0, total = 0;
  fc.assert(fc.property(frame, (raw) => {
    total++;
    const got = decodeChat(raw);
    if (!got) return;
    fast++;
    const want = decodeBinary(raw); // throws (fails the property) if protobufjs would refuse the frame
    expect(seenChat(got)).toEqual(seenChat(want));
    for (const m of [got, want]) {
      sanitizeInbound(m);
      (m.chat_message!.from_client_id = "alice"), (m.chat_message!.timestamp = 1_700_000_000_123);
      (m.message_id = "srv-1"), (m.timestamp = 1_700_000_000_123);
    }
    const bytes = (b: Uint8Array | undefined) => b && [...b];
    expect(bytes(stampChat(raw, got))).toEqual(bytes(stampChat(raw, want)));
    expect([[...encodeBinary(got)], toJsonText(got), encodeXr(got)]).toEqual([[...encodeBinary(want)], toJsonText(want), encodeXr(want)]);
  }), { numRuns: 20_000 });
  // Most of these frames have UTF-8, unknown fields or odd varints (protobufjs' path); ~1 in 20 is usual.
  expect(fast).toBeGreaterThan(total / 40);
});

test("chats as the SDK writes them (ASCII) take the fast path; parseBinary uses it", () => {
  fc.assert(fc.property(
    fc.record({ message: fc.string({ unit: fc.constantFrom(..."ab ?1"), maxLength: 40 }), type: fc.constantFrom(ChatType.NORMAL, ChatType.WHISPER, ChatType.SHOUT), to: fc.string({ unit: fc.constantFrom(..."xy-2"), maxLength: 10 }), ts: fc.nat(), id: fc.string({ unit: fc.constantFrom(..."m-3"), maxLength: 10 }) }),
    (c) => {
      const raw = encodeBinary({ type: MessageType.CHAT_MESSAGE, message_id: c.id, timestamp: c.ts, payload: "chat_message", chat_message: { message: c.message, type: c.type, to_client_id: c.to } } as Envelope);
      const got = decodeChat(raw);
      expect(got).toBeDefined();
      expect(seenChat(got!)).toEqual(seenChat(decodeBinary(raw)));
      const parsed = parseBinary(raw);
      expect("msg" in parsed && Object.getPrototypeOf(parsed.msg)).toBe(Object.prototype); // the fast path's plain envelope
    },
  ), { numRuns: 1000 });
});
