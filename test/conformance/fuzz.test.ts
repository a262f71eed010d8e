/**
 * Property tests (fast-check): random bytes and random JSON never crash a decoder or the live
 * server; every malformed frame is answered with an ERROR; unknown text is relayed verbatim;
 * other clients are unaffected and the stats stay exact.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeServerFrame } from "../../src/client/decode.ts";
import { parseBinary, parseText } from "../../src/protocol/codec.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";
import { sdk } from "../helpers/sdk.ts";

const TYPE_NAMES = Object.keys(MessageType);
/** JSON objects with a known type and arbitrary fields: mostly invalid, sometimes valid. */
const typedJson = fc.record({
  type: fc.oneof(fc.constantFrom(...TYPE_NAMES), fc.integer({ min: -1, max: 300 })),
  payload: fc.option(fc.dictionary(fc.constantFrom("message", "entity_id", "position", "components", "data", "type", "text", "x"), fc.jsonValue()), { nil: undefined }),
  message: fc.option(fc.jsonValue(), { nil: undefined }),
  entity_id: fc.option(fc.jsonValue(), { nil: undefined }),
  position: fc.option(fc.jsonValue(), { nil: undefined }),
}).map((o) => JSON.stringify(o));
const frame = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 3 }),
  typedJson,
);

describe("decoders", () => {
  test("never throw, whatever the input", () => {
    fc.assert(fc.property(frame, (f) => {
      if (typeof f === "string") parseText(f);
      else parseBinary(f);
      decodeServerFrame(f);
    }), { numRuns: 2000 });
  });
});

describe.each(RUNTIMES)("fuzzing the live server on %s", (runtime) => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer(runtime, { RATE_LIMIT_MESSAGES: "100000" });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test("random frames: errors for the malformed, verbatim relay for unknown text, nobody else disturbed", async () => {
    const frames = fc.sample(frame, { numRuns: 400, seed: 42 });
    const fuzzer = await sdk(s.ws, "fuzz", { clientId: "fuzzer" });
    const peer = await sdk(s.ws, "fuzz", { clientId: "peer", format: "protobuf" });
    const bystander = await sdk(s.ws, "fuzz-other", { clientId: "bystander" });
    let bad = 0, typed = 0;
    const raws: string[] = [];
    for (const f of frames) {
      if (typeof f === "string") {
        const p = parseText(f);
        if (p.kind === "bad") bad++;
        else if (p.kind === "raw") raws.push(f);
        else typed++;
      } else if ("error" in parseBinary(f)) bad++;
      else typed++;
      fuzzer.client.sendRaw(f);
    }
    // Frames are answered in order: once the pong to this marked ping is back, every error is.
    fuzzer.client.send(MessageType.PING, "ping", { client_time: 4242 });
    await fuzzer.waitFor(() => fuzzer.ofType(MessageType.PONG).some((m) => m.pong!.client_time === 4242), "the marked pong", 15_000);
    const errors = fuzzer.ofType(MessageType.ERROR).length;
    expect(errors).toBeGreaterThanOrEqual(bad);
    expect(errors).toBeLessThanOrEqual(bad + typed);
    await peer.waitFor(() => peer.raws.length >= raws.length, `${raws.length} raw relays`);
    expect(peer.raws).toEqual(raws);
    // The room still works for everyone, and nothing leaked into another room.
    peer.client.sendChat("still fine");
    const [chat] = await fuzzer.nOf(MessageType.CHAT_MESSAGE, 1);
    expect(chat.chat_message!.message).toBe("still fine");
    expect(bystander.messages.length).toBe(0);
    const stats = await (await fetch(`${s.http}/ws/fuzz/stats`)).json();
    expect(stats.connection_count).toBe(2);
    for (const c of [fuzzer, peer, bystander]) c.client.close();
    await Bun.sleep(100);
    const global = await (await fetch(`${s.http}/ws/stats`)).json();
    expect(global.total_connections).toBe(0);
  });
});
