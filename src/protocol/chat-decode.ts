/**
 * A fast path for a binary CHAT_MESSAGE (every reliable chat), as position-decode.ts is for
 * position updates: the envelope protobufjs would make, without protobufjs (its decode of a chat
 * was ~1.2 µs on Bun: a Reader, a oneof setter deleting the other payload fields, UTF-8 checks).
 *
 * Only the usual layout is taken: the envelope's `message_id`, `timestamp`, `type` (= 30) and
 * `chat_message`; the chat's `from_client_id`, `message`, `timestamp`, `type`, `to_client_id`
 * — each at most once, with its own wire type, strings ASCII, varints short enough to be exact
 * (`type` a non-negative int32). Anything else returns `undefined` for protobufjs to decode. As
 * in protobufjs, a field is set only when not its default, on an object made by protobufjs'
 * own constructor. Property-tested against protobufjs (test/unit/chat-decode.test.ts).
 * @module
 */
import type protobuf from "protobufjs/light.js";
import { ascii, delimited, envelope, env, MAX_VARINT, type Ctor } from "./position-decode.ts";
import { MessageProto } from "./proto.ts";
import { at, varint } from "./stamp.ts";
import { MessageType, type ChatMessage, type Envelope } from "./types.ts";

const ChatCtor = (MessageProto.fields.chat_message!.resolvedType as protobuf.Type).ctor as unknown as Ctor;
/** An int32 enum in at most 5 bytes; a negative one takes 10 (protobufjs' path). */
const MAX_ENUM_VARINT = 5;

/** The ChatMessage in `b[s, e)`, or undefined when its layout is not the usual one. */
function chat(b: Uint8Array, s: number, e: number): ChatMessage | undefined {
  const c = new ChatCtor();
  let seen = 0;
  while (s < e) {
    const tag = b[s++]!;
    const f = tag >> 3;
    if (tag & 0x80 || f < 1 || f > 5 || seen & (1 << f)) return undefined; // fields 1..5 have one-byte tags
    seen |= 1 << f;
    if (f === 3 || f === 4) {
      if ((tag & 7) !== 0) return undefined;
      const v = varint(b, s, e, f === 3 ? MAX_VARINT : MAX_ENUM_VARINT);
      if (v < 0 || (f === 4 && v > 0x7fffffff)) return undefined;
      if (v !== 0) {
        if (f === 3) c.timestamp = v;
        else c.type = v;
      }
      s = at;
      continue;
    }
    if ((tag & 7) !== 2) return undefined;
    const end = delimited(b, s, e);
    if (end < 0) return undefined;
    const vs = at;
    s = end;
    const text = ascii(b, vs, s);
    if (text === undefined) return undefined;
    if (text.length === 0) continue;
    if (f === 1) c.from_client_id = text;
    else if (f === 2) c.message = text;
    else c.to_client_id = text;
  }
  return c as ChatMessage;
}

/**
 * The envelope of a binary CHAT_MESSAGE in its usual layout, as protobufjs would decode it;
 * `undefined` for any other frame (decode it with protobufjs). Never throws.
 */
export function decodeChat(b: Uint8Array): Envelope | undefined {
  const c = envelope(b, MessageType.CHAT_MESSAGE, 0xc2, 0x02, chat); // field 40
  if (!c) return undefined;
  return { type: MessageType.CHAT_MESSAGE, message_id: env.id, timestamp: env.timestamp, seq: 0, epoch: 0, payload: "chat_message", chat_message: c };
}
