/**
 * [guarantees] Finding 6: a protobuf POSITION_UPDATE whose empty `entity_id` is written on the
 * wire (`0a 00`, as protobufjs writes an explicitly set empty string) must reach protobuf
 * receivers with the server's stamp (the sender's client id). Today the stamp goes in front,
 * the client's empty value comes last and wins; JSON receivers see the right id.
 */
import { expect, test } from "bun:test";
import { decodeServerFrame } from "../../src/client/decode.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { root } from "../../src/protocol/proto.ts";
import { MessageType, type Envelope } from "../../src/protocol/types.ts";
import { simBroker, SimNode, type SimConn } from "../model/sim-node.ts";

const Vector3 = root.lookupType("graphwiz.core.Vector3");

/** Message{type: POSITION_UPDATE, position_update: {entity_id: "" (written: 0a 00), position: {x: 1.5}}}. */
function positionWithEmptyId(): Uint8Array {
  const pos = Vector3.encode({ x: 1.5 }).finish();
  const inner = [0x0a, 0x00, 0x12, pos.length, ...pos];
  return new Uint8Array([0x18, MessageType.POSITION_UPDATE, 0xa2, 0x01, inner.length, ...inner]);
}

const settle = () => new Promise<void>((r) => setImmediate(r));
const positions = (c: SimConn): Envelope[] =>
  c.socket.read().map(decodeServerFrame).flatMap((f) => (f.kind === "message" && f.msg.type === MessageType.POSITION_UPDATE ? [f.msg] : []));

for (const shared of [false, true]) {
  test(`[finding 6] ${shared ? "two instances" : "one instance"}: protobuf and JSON receivers see the sender's id in a position update sent with an empty entity_id on the wire`, async () => {
    const clock = new ManualClock();
    const broker = simBroker(clock, 4000);
    const a = new SimNode({ broker, clock, nodeId: "a", standalone: !shared });
    const b = shared ? new SimNode({ broker, clock, nodeId: "b" }) : a;
    const sender = a.open({ room: "r", clientId: "mover", format: "protobuf" });
    const receivers = [a.open({ room: "r", clientId: "pb-here", format: "protobuf" }), a.open({ room: "r", clientId: "json-here" }), b.open({ room: "r", clientId: "pb-there", format: "protobuf" }), b.open({ room: "r", clientId: "json-there" })];
    for (let i = 0; i < 10; i++) await settle(), broker.flush();
    sender.send(positionWithEmptyId());
    for (let i = 0; i < 10; i++) await settle(), broker.flush();
    for (const r of receivers) {
      const got = positions(r);
      expect(got.length).toBe(1);
      expect(got[0]!.position_update).toMatchObject({ entity_id: "mover", position: { x: 1.5 } });
    }
    for (const n of new Set([a, b])) n.kill();
  });
}
