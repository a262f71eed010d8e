import { expect, test } from "bun:test";
import fc from "fast-check";
import { decodeBinary, encodeBinary } from "../../src/protocol/proto.ts";
import { stampPosition } from "../../src/protocol/stamp.ts";
import { allocFrame, useFrameSlab } from "../../src/lib/frame-alloc.ts";
import { Outbound, toJsonText } from "../../src/protocol/codec.ts";
import { MessageType, type Envelope } from "../../src/protocol/types.ts";

const f32 = fc.float({ noNaN: true, noDefaultInfinity: true });
const u64 = fc.integer({ min: 0, max: 2 ** 52 });

test("the stamped frame decodes exactly like the canonical message with the server's fields, whatever the client wrote", () => {
  fc.assert(fc.property(
    fc.record({ id: fc.string({ maxLength: 20 }), entity: fc.string({ maxLength: 40 }), x: f32, sn: fc.nat(0xffffffff), ts: u64, seq: u64, epoch: fc.nat(0xffffffff) }),
    fc.string({ minLength: 1, maxLength: 30 }), fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 2 ** 52 }),
    (c, serverId, ownEntity, now) => {
      // A client may write seq, epoch, message_id and timestamp — and an explicit empty entity id.
      const raw = encodeBinary({ type: MessageType.POSITION_UPDATE, message_id: c.id, timestamp: c.ts, seq: c.seq, epoch: c.epoch, payload: "position_update", position_update: { entity_id: c.entity, position: { x: c.x }, sequence_number: c.sn } } as Envelope);
      const stampEntity = c.entity === "" ? ownEntity : undefined;
      const got = decodeBinary(stampPosition(raw, serverId, now, stampEntity)!);
      const want = decodeBinary(encodeBinary({ type: MessageType.POSITION_UPDATE, message_id: serverId, timestamp: now, payload: "position_update", position_update: { entity_id: stampEntity ?? c.entity, position: { x: c.x }, sequence_number: c.sn } } as Envelope));
      expect(toJsonText(got)).toBe(toJsonText(want));
      expect(got.seq ?? 0).toBe(0);
      expect(got.epoch ?? 0).toBe(0);
    },
  ), { numRuns: 500 });
});

test("protobufjs' explicit empty entity_id (0a 00) loses to the server's stamp", () => {
  const raw = encodeBinary({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { entity_id: "", position: { x: 1 } } } as Envelope);
  expect([...raw]).toContain(0x0a); // the empty string is on the wire
  const got = decodeBinary(stampPosition(raw, "m", 5, "alice")!);
  expect(got.position_update!.entity_id).toBe("alice");
});

test("unknown fields (envelope or update) are dropped; an envelope field with the wrong wire type falls back to undefined", () => {
  const known = encodeBinary({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { sequence_number: 9 } } as Envelope);
  const unknown = new Uint8Array([0xf8, 0x07, 0x01]); // field 127, varint 1
  const raw = new Uint8Array([...unknown, ...known]);
  const out = stampPosition(raw, "m", 7)!;
  expect(out.length).toBeLessThan(raw.length + 8); // no unknown field carried
  expect(decodeBinary(out)).toMatchObject({ message_id: "m", timestamp: 7, type: MessageType.POSITION_UPDATE });
  const badType = new Uint8Array([0x1a, 0x00, ...known.subarray(2)]); // field 3 as length-delimited
  expect(stampPosition(badType, "m", 7)).toBeUndefined();
});

test("non-ASCII message and entity ids are written as UTF-8", () => {
  const raw = encodeBinary({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { position: { x: 1 } } } as Envelope);
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 20 }), fc.string({ unit: "binary", minLength: 1, maxLength: 20 }), (id, entity) => {
    const got = decodeBinary(stampPosition(raw, id, 9, entity)!);
    expect(got.message_id).toBe(new TextDecoder().decode(new TextEncoder().encode(id)));
    expect(got.position_update!.entity_id).toBe(new TextDecoder().decode(new TextEncoder().encode(entity)));
  }), { numRuns: 300 });
});

test("with the frame slab on (the Node host), stamped frames are views that never overlap and decode as before", () => {
  const raw = encodeBinary({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { position: { x: 1 }, sequence_number: 3 } } as Envelope);
  const alone = [...stampPosition(raw, "m-1", 5, "alice")!];
  useFrameSlab();
  try {
    const frames = Array.from({ length: 400 }, (_, i) => stampPosition(raw, `m-${i}`, 5, "alice")!);
    expect([...frames[1]!]).toEqual(alone);
    expect(frames[0]!.buffer).toBe(frames[2]!.buffer); // carved out of one slab
    for (let i = 1; i < frames.length; i++) {
      const [a, b] = [frames[i - 1]!, frames[i]!];
      if (a.buffer === b.buffer) expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + a.length);
      expect(decodeBinary(b).message_id).toBe(`m-${i}`);
    }
    expect(allocFrame(5000).byteOffset).toBe(0); // a big frame gets a buffer of its own
  } finally {
    useFrameSlab(false);
  }
});

test("an Outbound kept long takes its stamped bytes out of the slab (Outbound.owned), same bytes", () => {
  const raw = encodeBinary({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { position: { x: 2 } } } as Envelope);
  useFrameSlab();
  try {
    const bytes = stampPosition(raw, "m-1", 5, "alice")!;
    expect(bytes.byteLength).toBeLessThan(bytes.buffer.byteLength); // a slab view
    const out = Outbound.stamped(decodeBinary(bytes), bytes).owned();
    expect(out.protobuf().byteLength).toBe(out.protobuf().buffer.byteLength);
    expect([...out.protobuf()]).toEqual([...bytes]);
  } finally {
    useFrameSlab(false);
  }
  const plain = Outbound.stamped(decodeBinary(raw), raw);
  expect(plain.owned().protobuf()).toBe(raw); // already its own buffer: kept as it is
});
