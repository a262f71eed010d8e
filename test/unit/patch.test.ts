import { expect, test } from "bun:test";
import fc from "fast-check";
import { stampedBytes } from "../../src/protocol/patch.ts";
import { decodeBinary, encodeBinary } from "../../src/protocol/proto.ts";
import { toJsonText } from "../../src/protocol/codec.ts";
import { MessageType, type Envelope } from "../../src/protocol/types.ts";

const f32 = fc.float({ noNaN: true, noDefaultInfinity: true });

test("stamping by appending decodes exactly like re-encoding the stamped message", () => {
  fc.assert(fc.property(
    fc.record({ id: fc.string({ maxLength: 20 }), entity: fc.string({ maxLength: 40 }), x: f32, seq: fc.nat(0xffffffff), ts: fc.integer({ min: 0, max: 2 ** 52 }) }),
    fc.string({ minLength: 1, maxLength: 30 }), fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 2 ** 52 }),
    (c, newId, newEntity, now) => {
      const raw = encodeBinary({ type: MessageType.POSITION_UPDATE, message_id: c.id, timestamp: c.ts, payload: "position_update", position_update: { entity_id: c.entity, position: { x: c.x }, sequence_number: c.seq } } as Envelope);
      const msg = decodeBinary(raw);
      const idStamped = !msg.message_id, entityStamped = !msg.position_update!.entity_id;
      if (idStamped) msg.message_id = newId;
      if (entityStamped) msg.position_update!.entity_id = newEntity;
      msg.timestamp = now;
      const viaPatch = decodeBinary(stampedBytes(raw, msg, idStamped, entityStamped));
      const viaEncode = decodeBinary(encodeBinary(msg));
      expect(toJsonText(viaPatch)).toBe(toJsonText(viaEncode));
    },
  ), { numRuns: 500 });
});

test("an unusual layout (the update not last) falls back to appending, still decoding right", () => {
  const canonical = encodeBinary({ type: MessageType.POSITION_UPDATE, timestamp: 5, payload: "position_update", position_update: { sequence_number: 9 } } as Envelope);
  // Move the envelope's type and timestamp after the position update.
  const update = encodeBinary({ payload: "position_update", position_update: { sequence_number: 9 } } as Envelope);
  const tail = encodeBinary({ type: MessageType.POSITION_UPDATE, timestamp: 5 } as Envelope);
  const raw = new Uint8Array([...update, ...tail]);
  expect(toJsonText(decodeBinary(raw))).toBe(toJsonText(decodeBinary(canonical)));
  const msg = decodeBinary(raw);
  msg.message_id = "m";
  msg.timestamp = 99;
  msg.position_update!.entity_id = "e";
  const got = decodeBinary(stampedBytes(raw, msg, true, true));
  expect(got).toMatchObject({ message_id: "m", timestamp: 99 });
  expect(got.position_update).toMatchObject({ entity_id: "e", sequence_number: 9 });
});

test("a canonical update keeps its own last field last (what fast scanners rely on)", () => {
  const raw = encodeBinary({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { position: { x: 1 }, sequence_number: 300 } } as Envelope);
  const msg = decodeBinary(raw);
  msg.message_id = "id-1";
  msg.timestamp = 1_700_000_000_000;
  msg.position_update!.entity_id = "client";
  const out = stampedBytes(raw, msg, true, true);
  expect([...out.subarray(out.length - 3)]).toEqual([...raw.subarray(raw.length - 3)]);
});
