import { expect, test } from "bun:test";
import fc from "fast-check";
import { parseBinary, toJsonText } from "../../src/protocol/codec.ts";
import { decodePosition } from "../../src/protocol/position-decode.ts";
import { decodeBinary, encodeBinary } from "../../src/protocol/proto.ts";
import { sanitizeInbound } from "../../src/protocol/sanitize.ts";
import { decoded, stampPosition } from "../../src/protocol/stamp.ts";
import { MessageType, type Envelope } from "../../src/protocol/types.ts";
import { encodeXr } from "../../src/protocol/xr.ts";

// ---- frames built field by field: the usual layout, and everything around it -----------------

const byte = (lo = 0, hi = 255) => fc.integer({ min: lo, max: hi });
/** A varint: usually minimal, sometimes padded, too long (> 7 or > 10 bytes) or huge. */
const varint = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 40 }).map(minimal),
  fc.constantFrom(0, 1, 10, 0xffffffff, 2 ** 32, 2 ** 48, 2 ** 49).map(minimal),
  fc.tuple(fc.array(byte(0x80, 0xff), { maxLength: 11 }), byte(0, 0x7f)).map(([a, b]) => [...a, b]),
);
function minimal(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) out.push((n % 128) + 128), (n = Math.floor(n / 128));
  out.push(n);
  return out;
}
const ld = (tag: number[], body: number[]) => [...tag, ...minimal(body.length), ...body];
/** Text bytes: mostly ASCII ids, sometimes empty, UTF-8 or invalid UTF-8. */
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(..."abcXYZ019-_"), maxLength: 24 }).map((s) => [...s].map((c) => c.charCodeAt(0))) },
  { weight: 1, arbitrary: fc.constant([] as number[]) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }).map((s) => [...new TextEncoder().encode(s)]) },
  { weight: 1, arbitrary: fc.array(byte(), { maxLength: 6 }) },
);
/** A float's 4 bytes: often 0 or -0 (protobufjs leaves +0 out, keeps -0), NaN, or anything. */
const float = fc.oneof(
  fc.constantFrom([0, 0, 0, 0], [0, 0, 0, 0x80], [0, 0, 0xc0, 0x7f], [0, 0, 0x80, 0x3f]),
  fc.array(byte(), { minLength: 4, maxLength: 4 }),
);
/** Some field the fast path does not take: unknown number, or a known one with another wire type. */
const odd = fc.oneof(
  fc.tuple(byte(1, 15), varint).map(([f, v]) => [(f << 3) | 0, ...v]),
  fc.tuple(byte(1, 15), fc.array(byte(), { maxLength: 4 })).map(([f, b]) => ld([(f << 3) | 2], b)),
  fc.tuple(byte(1, 15)).map(([f]) => [(f << 3) | 5, 1, 2, 3, 4]),
  fc.array(byte(), { minLength: 1, maxLength: 3 }),
);
const vector = (n: number) => fc.array(fc.oneof(
  { weight: 8, arbitrary: fc.tuple(byte(1, n), float).map(([f, b]) => [(f << 3) | 5, ...b]) },
  { weight: 1, arbitrary: odd },
), { maxLength: n + 1 }).map((fs) => fs.flat());
const updateField = fc.oneof(
  { weight: 4, arbitrary: text.map((t) => ld([0x0a], t)) },
  { weight: 4, arbitrary: vector(3).map((v) => ld([0x12], v)) },
  { weight: 4, arbitrary: vector(4).map((v) => ld([0x1a], v)) },
  { weight: 4, arbitrary: varint.map((v) => [0x20, ...v]) },
  { weight: 1, arbitrary: odd },
);
const envelopeField = fc.oneof(
  { weight: 3, arbitrary: text.map((t) => ld([0x0a], t)) },
  { weight: 3, arbitrary: varint.map((v) => [0x10, ...v]) },
  { weight: 6, arbitrary: fc.oneof({ weight: 5, arbitrary: fc.constant([10]) }, { weight: 1, arbitrary: varint }).map((v) => [0x18, ...v]) },
  { weight: 1, arbitrary: varint.map((v) => [0x20, ...v]) },
  { weight: 1, arbitrary: varint.map((v) => [0x28, ...v]) },
  { weight: 8, arbitrary: fc.array(updateField, { maxLength: 5 }).map((fs) => ld([0xa2, 0x01], fs.flat())) },
  { weight: 1, arbitrary: odd },
);
/** Near the usual layout: each known field at most once, in any order, valid values mostly. */
const usualVector = (n: number) => fc.subarray([1, 2, 3, 4].slice(0, n)).chain((fs) => fc.tuple(...fs.map((f) => float.map((b) => [(f << 3) | 5, ...b])))).map((x) => x.flat());
const usualUpdate = fc.tuple(
  fc.option(text.map((t) => ld([0x0a], t))), fc.option(usualVector(3).map((v) => ld([0x12], v))),
  fc.option(usualVector(4).map((v) => ld([0x1a], v))), fc.option(varint.map((v) => [0x20, ...v])),
).chain((fs) => fc.shuffledSubarray(fs.filter((f) => f !== null), { minLength: fs.filter((f) => f !== null).length })).map((fs) => fs.flat());
const usual = fc.tuple(
  fc.option(text.map((t) => ld([0x0a], t))), fc.option(varint.map((v) => [0x10, ...v])), usualUpdate.map((u) => ld([0xa2, 0x01], u)),
).chain(([id, ts, u]) => fc.shuffledSubarray([[0x18, 10], u, ...(id ? [id] : []), ...(ts ? [ts] : [])], { minLength: 2 + (id ? 1 : 0) + (ts ? 1 : 0) }));
const frame = fc.tuple(
  fc.oneof({ weight: 1, arbitrary: fc.array(envelopeField, { minLength: 1, maxLength: 6 }) }, { weight: 2, arbitrary: usual }),
  fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.nat(), byte()) }),
  fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
).map(([fields, flip, cut]) => {
  const b = new Uint8Array(fields.flat());
  if (flip && b.length) b[flip[0] % b.length] = flip[1];
  return cut === undefined || !b.length ? b : b.subarray(0, cut % b.length);
});

// ---- what the server and its recipients see of a decoded message ------------------------------

/** The protobufjs type whose constructor made `o` (its prototype's `$type`), or "plain". */
const madeBy = (o: object) => (Object.getPrototypeOf(o) as { $type?: { fullName: string } }).$type?.fullName ?? "plain";
const own = (o: object) => Object.keys(o).sort().map((k) => [k, (o as Record<string, unknown>)[k]]);
/** Everything a reader of the update can observe: own fields, prototype defaults, constructors. */
function seen(msg: Envelope): unknown {
  const u = msg.position_update!;
  const vec = (v: unknown, names: string[]) => v == null ? v : {
    proto: madeBy(v as object),
    own: own(v as object),
    read: names.map((n) => (v as Record<string, number>)[n]),
  };
  return {
    type: msg.type, payload: msg.payload, message_id: msg.message_id ?? "", timestamp: msg.timestamp ?? 0, seq: msg.seq ?? 0, epoch: msg.epoch ?? 0,
    update: { proto: madeBy(u), own: own(u).map(([k]) => k), entity_id: u.entity_id, sequence_number: u.sequence_number },
    position: vec(u.position, ["x", "y", "z"]),
    rotation: vec(u.rotation, ["x", "y", "z", "w"]),
  };
}
/** What recipients get once the server cleaned and stamped it: the bytes in every format. */
function sent(msg: Envelope): unknown {
  sanitizeInbound(msg);
  msg.message_id = "srv-1";
  msg.timestamp = 1_700_000_000_123;
  msg.position_update!.entity_id ||= "alice";
  return [[...encodeBinary(msg)], toJsonText(msg), encodeXr(msg)];
}

test("a position update the fast path decodes is exactly what protobufjs decodes; anything else is left to protobufjs", () => {
  let fast = 0, total = 0;
  fc.assert(fc.property(frame, (b) => {
    total++;
    const got = decodePosition(b);
    if (!got) return;
    fast++;
    const want = decodeBinary(b); // throws (fails the property) if protobufjs would refuse the frame
    expect(seen(got)).toEqual(seen(want));
    expect(sent(got)).toEqual(sent(want));
  }), { numRuns: 20_000 });
  // The generator must reach the fast path often enough for the property to mean something.
  expect(fast).toBeGreaterThan(total / 20);
});

test("stamping a frame just decoded (its layout reused) gives the bytes of stamping it from scratch", () => {
  let reused = 0;
  fc.assert(fc.property(frame, fc.boolean(), (b, entity) => {
    if (!decodePosition(b)) return;
    expect(decoded.frame).toBe(b);
    reused++;
    const ent = entity ? "alice" : undefined;
    const fromLayout = stampPosition(b, "srv-1", 1_700_000_000_123, ent);
    const scanned = stampPosition(b.slice(), "srv-1", 1_700_000_000_123, ent); // another object: scanned
    expect(fromLayout && [...fromLayout]).toEqual(scanned && [...scanned]);
    // A frame that fails to decode leaves no layout behind for the one before it.
    decodePosition(new Uint8Array([0x18, 10, 0xa2, 0x01, 0x05, 0x12, 0x09]));
    expect(decoded.frame).toBeUndefined();
  }), { numRuns: 20_000 });
  expect(reused).toBeGreaterThan(500);
});

test("canonical position updates (what the SDK and protobufjs write) take the fast path", () => {
  const f32 = fc.float({ noNaN: true, noDefaultInfinity: true });
  fc.assert(fc.property(
    fc.record({ id: fc.string({ unit: fc.constantFrom(..."ab-1"), maxLength: 12 }), ts: fc.integer({ min: 0, max: 2 ** 45 }), entity: fc.string({ unit: fc.constantFrom(..."xy_2"), maxLength: 12 }), x: f32, w: f32, sn: fc.nat(0xffffffff) }),
    (c) => {
      const b = encodeBinary({ type: MessageType.POSITION_UPDATE, message_id: c.id, timestamp: c.ts, payload: "position_update", position_update: { entity_id: c.entity, position: { x: c.x, y: 1 }, rotation: { w: c.w }, sequence_number: c.sn } } as Envelope);
      const got = decodePosition(b);
      expect(got).toBeDefined();
      expect(seen(got!)).toEqual(seen(decodeBinary(b)));
    },
  ), { numRuns: 2000 });
});

test("parseBinary takes the fast path for position updates and protobufjs for the rest", () => {
  const pos = encodeBinary({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { position: { x: 1 } } } as Envelope);
  const parsed = parseBinary(pos);
  expect("msg" in parsed && Object.getPrototypeOf(parsed.msg)).toBe(Object.prototype); // the fast path's plain envelope
  const chat = encodeBinary({ type: MessageType.CHAT_MESSAGE, payload: "chat_message", chat_message: { message: "hi" } } as Envelope);
  const c = parseBinary(chat);
  expect("msg" in c && c.msg.chat_message?.message).toBe("hi");
  // A position update whose type disagrees with its payload is still refused, by protobufjs' path.
  const wrong = new Uint8Array([0x18, 30, ...pos.subarray(2)]);
  expect("error" in parseBinary(wrong)).toBe(true);
});
