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
