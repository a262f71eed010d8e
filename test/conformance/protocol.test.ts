/** [protocol] conformance: typed messages through the real server on every runtime, via the SDK. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { toJsonText } from "../../src/protocol/codec.ts";
import { MessageType, type Envelope } from "../../src/protocol/types.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";
import { sdk, type Recorder } from "../helpers/sdk.ts";
import { SAMPLES } from "../helpers/samples.ts";

const FORMATS = ["json", "protobuf"] as const;
/** A payload as JSON, for comparing what was sent with what arrived. */
const shape = (m: Envelope) => JSON.parse(toJsonText({ type: m.type, payload: m.payload, [m.payload!]: m[m.payload!] } as Envelope)).payload;
let roomSeq = 0;
const room = (name: string) => `${name}-${++roomSeq}`;

describe.each(RUNTIMES)("protocol on %s", (runtime) => {
  let s: RunningServer;
  const opened: Recorder[] = [];
  const join = async (r: string, opts: Parameters<typeof sdk>[2] = {}) => {
    const c = await sdk(s.ws, r, opts);
    opened.push(c);
    return c;
  };
  beforeAll(async () => {
    s = await startServer(runtime);
  });
  afterAll(async () => {
    for (const c of opened) c.client.close();
    await s?.stop();
  });

  for (const from of FORMATS) {
    test(`every relayed kind from a ${from} sender reaches JSON and protobuf peers intact`, async () => {
      const r = room(`kinds-${from}`);
      const sender = await join(r, { format: from, clientId: "sender" });
      const peers = [await join(r, { format: "json" }), await join(r, { format: "protobuf" })];
      const send = (type: number, kind: string, payload: unknown) => sender.client.send(type, kind as never, payload as never);
      const relayed: [number, string, Record<string, unknown>, (m: Envelope) => unknown][] = [
        [MessageType.POSITION_UPDATE, "position_update", { entity_id: "", position: { x: 1.5, y: 2, z: -3 }, rotation: { x: 0, y: 0, z: 0, w: 1 }, sequence_number: 9 }, (m) => ({ ...shape(m), entity_id: "" })],
        [MessageType.VOICE_DATA, "voice_data", { audio_data: new Uint8Array([1, 2, 3, 250]), sequence_number: 4, codec: 2 }, (m) => ({ ...shape(m), from_client_id: "" })],
        [MessageType.ENTITY_SPAWN, "entity_spawn", { entity_id: "box", template_id: "cube", components: { color: "red" } }, (m) => ({ ...shape(m), owner_id: "" })],
        [MessageType.ENTITY_UPDATE, "entity_update", { entity_id: "box", components: { color: new TextEncoder().encode("blue") } }, shape],
        // The chat's timestamp is the server's (a client-set one is overwritten, like the envelope's).
        [MessageType.CHAT_MESSAGE, "chat_message", { message: "héllo ✓", timestamp: 123 }, (m) => ({ ...shape(m), from_client_id: "", timestamp: "checked below" })],
        [MessageType.PRESENCE_UPDATE, "presence_event", { event_type: 2, data: { display_name: "S", avatar_url: "u" } }, (m) => ({ client_id: shape(m).client_id, dn: shape(m).data.display_name, au: shape(m).data.avatar_url })],
        [MessageType.ENTITY_DESPAWN, "entity_despawn", { entity_id: "box" }, shape],
      ];
      for (const [type, kind, payload] of relayed) send(type, kind, payload);
      for (const peer of peers) {
        for (const [type, kind, payload, view] of relayed) {
          const [got] = await peer.nOf(type, 1);
          const expected = { type, payload: kind, [kind]: payload } as Envelope;
          if (type === MessageType.PRESENCE_UPDATE) expect(view(got)).toEqual({ client_id: "sender", dn: "S", au: "u" });
          else expect(view(got)).toEqual(view(expected));
          if (type === MessageType.CHAT_MESSAGE) expect(Math.abs(got.chat_message!.timestamp! - Date.now())).toBeLessThan(60_000);
          expect(got.message_id).not.toBe("");
          expect(Math.abs(got.timestamp! - Date.now())).toBeLessThan(10_000);
        }
        expect(peer.ofType(MessageType.CHAT_MESSAGE)[0].chat_message!.from_client_id).toBe("sender");
        expect(peer.ofType(MessageType.VOICE_DATA)[0].voice_data!.from_client_id).toBe("sender");
        expect(peer.ofType(MessageType.ENTITY_SPAWN)[0].entity_spawn!.owner_id).toBe("sender");
        expect(peer.ofType(MessageType.POSITION_UPDATE)[0].position_update!.entity_id).toBe("sender");
      }
      // PING is answered in the sender's format and never relayed.
      sender.client.ping();
      await sender.nOf(MessageType.PONG, 1);
      await Bun.sleep(50);
      for (const peer of peers) expect(peer.ofType(MessageType.PING).length + peer.ofType(MessageType.PONG).length).toBe(0);
      expect(sender.ofType(MessageType.CHAT_MESSAGE).length).toBe(0);
    });
  }

  test("a forged from_client_id is overwritten; non-owners get FORBIDDEN and nothing is relayed", async () => {
    const r = room("own");
    const alice = await join(r, { clientId: "alice", format: "protobuf" });
    const bob = await join(r, { clientId: "bob" });
    const carol = await join(r, { clientId: "carol" });
    bob.client.send(MessageType.CHAT_MESSAGE, "chat_message", { message: "i am alice", from_client_id: "alice" });
    const [c] = await carol.nOf(MessageType.CHAT_MESSAGE, 1);
    expect(c.chat_message!.from_client_id).toBe("bob");
    alice.client.spawnEntity({ entity_id: "lamp", template_id: "lamp" });
    await carol.nOf(MessageType.ENTITY_SPAWN, 1);
    bob.client.updateEntity("lamp", { on: "1" });
    bob.client.despawnEntity("lamp");
    bob.client.sendPosition({ x: 5 }, undefined, "lamp");
    const errs = await bob.nOf(MessageType.ERROR, 3);
    expect(errs.map((e) => e.error!.code)).toEqual(["FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]);
    alice.client.updateEntity("lamp", { on: "1" });
    await carol.nOf(MessageType.ENTITY_UPDATE, 1);
    expect(carol.ofType(MessageType.ENTITY_DESPAWN).length + carol.ofType(MessageType.POSITION_UPDATE).length).toBe(0);
    expect(carol.ofType(MessageType.ENTITY_UPDATE).length).toBe(1);
  });

  test("presence join, update and leave; a late joiner sees players and entities at once", async () => {
    const r = room("presence");
    const alice = await join(r, { clientId: "alice", displayName: "Alice" });
    const bob = await join(r, { clientId: "bob", format: "protobuf" });
    const [j] = await alice.nOf(MessageType.PRESENCE_JOIN, 1);
    expect(j.presence_event!.client_id).toBe("bob");
    bob.client.updatePresence({ display_name: "Bobby" });
    const [u] = await alice.nOf(MessageType.PRESENCE_UPDATE, 1);
    expect(u.presence_event).toMatchObject({ client_id: "bob", data: { display_name: "Bobby" } });
    alice.client.sendPosition({ x: 1, y: 2, z: 3 });
    alice.client.spawnEntity({ entity_id: "chair", template_id: "chair", components: { c: "oak" } });
    await bob.nOf(MessageType.ENTITY_SPAWN, 1);
    await bob.nOf(MessageType.POSITION_UPDATE, 1);
    const late = await join(r, { clientId: "late", format: "protobuf" });
    expect(late.client.players.get("alice")).toMatchObject({ display_name: "Alice", position: { x: 1, y: 2, z: 3 } });
    expect(late.client.players.get("bob")).toMatchObject({ display_name: "Bobby" });
    expect(late.client.entities.get("chair")).toMatchObject({ template_id: "chair", owner_id: "alice", components: { c: "oak" } });
    alice.client.close();
    const [despawn] = await late.nOf(MessageType.ENTITY_DESPAWN, 1);
    expect(despawn.entity_despawn!.entity_id).toBe("chair");
    const [leave] = await late.nOf(MessageType.PRESENCE_LEAVE, 1);
    expect(leave.presence_event!.client_id).toBe("alice");
    expect(late.client.players.has("alice")).toBe(false);
    expect(late.client.entities.has("chair")).toBe(false);
  });

  test("the seed's wscat chat and unknown text: typed chat vs verbatim relay", async () => {
    const r = room("seed");
    const a = await join(r);
    const b = await join(r, { format: "protobuf" });
    a.client.sendRaw('{"type":"CHAT_MESSAGE","text":"Hello from wscat!"}');
    a.client.sendRaw('{"type":"TEST_MESSAGE","data":"Hello from client"}');
    const [m] = await b.nOf(MessageType.CHAT_MESSAGE, 1);
    expect(m.chat_message!.message).toBe("Hello from wscat!");
    await b.waitFor(() => b.raws.length === 1, "the raw relay");
    expect(b.raws[0]).toBe('{"type":"TEST_MESSAGE","data":"Hello from client"}');
  });
});

// Keep the sample table in use so a new kind added there is covered by the unit round trips.
test("samples cover every client-sent kind", () => {
  expect(new Set(SAMPLES.map((s) => s.payload)).size).toBe(SAMPLES.length);
});
