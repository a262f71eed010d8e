/**
 * [guarantees] Finding 9: docs/delivery.md says every client's reliable messages carry `seq`
 * and `epoch` ("plain client … carries seq/epoch"); today a single instance stamps them only
 * while the room has an acknowledging member (or a detached session). The docs and the
 * behaviour must agree: this test reads what the docs promise a plain client and checks it.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { decodeServerFrame } from "../../src/client/decode.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { toJsonText } from "../../src/protocol/codec.ts";
import { MessageType, type Envelope } from "../../src/protocol/types.ts";
import { simBroker, SimNode, type SimConn } from "../model/sim-node.ts";

const table = readFileSync(resolve(import.meta.dir, "../../docs/delivery.md"), "utf8");
const reliableRow = table.split("\n").find((l) => l.startsWith("| `CHAT_MESSAGE`"))!;
const plainCell = reliableRow.split("|")[2]!;
/** What the docs promise a plain client: `seq` always, unless they say when not. */
const docsSayAlways = /carries `seq`/.test(plainCell) && !/only|while|unless|when/.test(plainCell);

const chats = (c: SimConn): Envelope[] =>
  c.socket.read().map(decodeServerFrame).flatMap((f) => (f.kind === "message" && f.msg.type === MessageType.CHAT_MESSAGE ? [f.msg] : []));
const chat = (text: string) => toJsonText({ type: MessageType.CHAT_MESSAGE, payload: "chat_message", chat_message: { message: text } });

test("[finding 9] one instance, plain clients only: a chat carries seq and epoch exactly as docs/delivery.md says", () => {
  const clock = new ManualClock();
  const node = new SimNode({ broker: simBroker(clock, 4000), clock, nodeId: "solo", standalone: true });
  const a = node.open({ room: "r", clientId: "a" });
  const b = node.open({ room: "r", clientId: "b", format: "protobuf" });
  a.send(chat("no ack member here"));
  const [got] = chats(b);
  expect(got!.chat_message!.message).toBe("no ack member here");
  expect({ seq: (got!.seq ?? 0) > 0, epoch: (got!.epoch ?? 0) > 0 }).toEqual({ seq: docsSayAlways, epoch: docsSayAlways });
  node.kill();
});

test("[finding 9] one instance, with an acknowledging member: every client's chat carries seq and epoch (what the docs promise in any case)", () => {
  const clock = new ManualClock();
  const node = new SimNode({ broker: simBroker(clock, 4000), clock, nodeId: "solo", standalone: true });
  const a = node.open({ room: "r", clientId: "a" });
  const b = node.open({ room: "r", clientId: "b" });
  node.open({ room: "r", clientId: "acker", reliable: true });
  a.send(chat("with an ack member"));
  const [got] = chats(b);
  expect((got!.seq ?? 0) > 0 && (got!.epoch ?? 0) > 0).toBe(true);
  node.kill();
});
