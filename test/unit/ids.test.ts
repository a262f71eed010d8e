import { expect, test } from "bun:test";
import { MessageIds } from "../../src/lib/ids.ts";
import { stampPosition } from "../../src/protocol/stamp.ts";
import { decodeBinary, encodeBinary } from "../../src/protocol/proto.ts";
import { MessageType } from "../../src/protocol/types.ts";

test("MessageIds keeps the bytes of the id it returned last, across every digit roll-over", () => {
  const ids = new MessageIds();
  const dec = new TextDecoder();
  let last = "";
  for (let i = 1; i <= 50_000; i++) {
    const id = ids.next();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    expect(id.endsWith(`-${i.toString(36)}`)).toBe(true);
    // Checked for every id up to 3 digits, then spot-checked (each one costs a decode).
    if (i < 2000 || i % 997 === 0 || (i + 1) % 1296 <= 1) expect(dec.decode(ids.bytes.subarray(0, ids.length))).toBe(id);
    expect(id).not.toBe(last);
    last = id;
  }
});

test("a position update stamped from the id's bytes is the one stamped from its string", () => {
  const raw = encodeBinary({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { entity_id: "", position: { x: 1, y: 2, z: 3 }, sequence_number: 7 } });
  const ids = new MessageIds();
  for (let i = 0; i < 3000; i++) {
    const id = ids.next();
    const a = stampPosition(raw, id, 1_700_000_000_123, "alice")!;
    const b = stampPosition(raw, id, 1_700_000_000_123, "alice", ids)!;
    expect([...b]).toEqual([...a]);
    if (i % 500 === 0) expect(decodeBinary(b).message_id).toBe(id);
  }
});
