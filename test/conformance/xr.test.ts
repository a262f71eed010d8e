/**
 * [compat] GraphWiz-XR's web client (xr frames, issue 15) in rooms with JSON and protobuf
 * clients, on every runtime: every kind crosses between the three formats with its content;
 * hello, host, presence, pings, grabs and errors; and nothing an xr client receives fails its
 * strict parser or would make the real client warn.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MessageType } from "../../src/protocol/types.ts";
import { TestClient } from "../helpers/client.ts";
import { bytesOf, rawPeer, textOf, xrPeer, type Got, type Peer, type PeerFormat } from "../helpers/peers.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";
import { XR, XrClient, xrFrame } from "../helpers/xr-client.ts";

const near = (t: number) => Math.abs(t - Date.now()) < 10_000;

/** One kind: what the sender sends (in-memory form; `xr` as GraphWiz-XR writes it) and what every receiver must read. */
interface Kind {
  type: number;
  payload: Record<string, unknown>;
  xr?: (sender: string) => Record<string, unknown>;
  check(g: Got, sender: string, format: PeerFormat): void;
  /** Which received message of `type` this is (presence updates also come from hellos). */
  pick?: (g: Got) => boolean;
}

const vec = (x: number, y: number, z: number) => ({ x, y, z });
const KINDS: Kind[] = [
  {
    type: MessageType.POSITION_UPDATE,
    payload: { entity_id: "", position: vec(1.5, 2, -3), rotation: { x: 0, y: 0, z: 0, w: 1 }, sequence_number: 9 },
    xr: (me) => ({ entityId: me, position: vec(1.5, 2, -3), rotation: { x: 0, y: 0, z: 0, w: 1 }, sequenceNumber: 9, timestamp: Date.now() }),
    check(g, sender) {
      expect([g.get("entity_id"), g.get("position.x"), g.get("position.z"), g.get("rotation.w"), g.get("sequence_number")]).toEqual([sender, 1.5, -3, 1, 9]);
    },
  },
  {
    type: MessageType.VOICE_DATA,
    payload: { from_client_id: "forged", audio_data: new Uint8Array([1, 2, 3, 250]), sequence_number: 4, codec: 2 },
    check(g, sender, f) {
      expect([g.get("from_client_id"), bytesOf(g.get("audio_data")), g.get("sequence_number"), g.get("codec")]).toEqual([sender, [1, 2, 3, 250], 4, f === "json" ? "PCMA" : 2]);
    },
  },
  {
    type: MessageType.CHAT_MESSAGE,
    payload: { from_client_id: "forged", message: "héllo ✓", type: 0 },
    xr: () => ({ fromClientId: "forged", message: "héllo ✓", timestamp: Date.now(), type: 0 }),
    check(g, sender) {
      expect([g.get("from_client_id"), g.get("message")]).toEqual([sender, "héllo ✓"]);
    },
  },
  {
    type: MessageType.ENTITY_SPAWN,
    payload: { entity_id: "box", template_id: "cube", owner_id: "forged", components: { color: "red" } },
    check(g, sender) {
      expect([g.get("entity_id"), g.get("template_id"), g.get("owner_id"), g.get("components.color")]).toEqual(["box", "cube", sender, "red"]);
    },
  },
  {
    type: MessageType.ENTITY_UPDATE,
    payload: { entity_id: "box", components: { color: new TextEncoder().encode("blue") } },
    xr: () => ({ entityId: "box", components: { color: "blue" } }),
    check(g, _s, f) {
      expect([g.get("entity_id"), textOf(g.get("components.color"), f)]).toEqual(["box", "blue"]);
    },
  },
  {
    type: MessageType.EMOJI_REACTION,
    payload: { from_client_id: "forged", emoji: "🎉", position: vec(1, 2, 3), timestamp: 5, reaction_id: "rx" },
    check(g, sender) {
      expect([g.get("from_client_id"), g.get("emoji"), g.get("position.y"), g.get("reaction_id"), near(g.get("timestamp"))]).toEqual([sender, "🎉", 2, "rx", true]);
    },
  },
  {
    type: MessageType.OBJECT_GRAB,
    payload: { entity_id: "box", client_id: "forged", position: vec(0, 1, 0), timestamp: 5 },
    check(g, sender) {
      expect([g.get("entity_id"), g.get("client_id"), g.get("position.y"), near(g.get("timestamp"))]).toEqual(["box", sender, 1, true]);
    },
  },
  {
    type: MessageType.OBJECT_RELEASE,
    payload: { entity_id: "box", client_id: "forged", position: vec(0, 1, 0), velocity: vec(0, -1, 0.5), timestamp: 5 },
    check(g, sender) {
      expect([g.get("entity_id"), g.get("client_id"), g.get("velocity.z"), near(g.get("timestamp"))]).toEqual(["box", sender, 0.5, true]);
    },
  },
  {
    type: MessageType.PRESENCE_UPDATE,
    payload: { event_type: 2, data: { display_name: "Zed", avatar_url: "https://a/z.glb" } },
    // GraphWiz-XR's avatar update: flat, no `data`.
    xr: (me) => ({ clientId: me, displayName: "Zed", avatarUrl: "https://a/z.glb", position: vec(0, 0, 0), rotation: { x: 0, y: 0, z: 0, w: 1 }, avatarConfig: { bodyType: "robot", primaryColor: "#fff", secondaryColor: "#000", height: 1.7, customModelUrl: "" } }),
    pick: (g) => g.get("data.display_name") === "Zed",
    check(g, sender) {
      expect([g.get("client_id"), g.get("data.display_name"), g.get("data.avatar_url")]).toEqual([sender, "Zed", "https://a/z.glb"]);
    },
  },
  {
    type: MessageType.ENTITY_DESPAWN,
    payload: { entity_id: "box" },
    check(g) {
      expect(g.get("entity_id")).toBe("box");
    },
  },
];

describe.each(RUNTIMES)("GraphWiz-XR's frames on %s", (runtime) => {
  let s: RunningServer;
  const open: Peer[] = [];
  let roomSeq = 0;
  const room = (name: string) => `${name}-${++roomSeq}`;
  const xr = async (r: string, name: string, opts: Partial<ConstructorParameters<typeof XrClient>[2]> = {}) => {
    const p = xrPeer(new XrClient(s.ws, r, { userId: `u-${name}`, displayName: name, ...opts }));
    open.push(p);
    await p.hello;
    return p;
  };
  const raw = async (r: string, format: "json" | "protobuf", id: string) => {
    const p = await rawPeer(s.ws, r, format, id);
    open.push(p);
    await p.hello;
    return p;
  };
  const peerOf = (r: string, f: PeerFormat, id: string) => (f === "xr" ? xr(r, id) : raw(r, f, id));

  beforeAll(async () => {
    s = await startServer(runtime, { RATE_LIMIT_MESSAGES: "100000", PING_INTERVAL_MS: "600000" });
  });
  afterAll(async () => {
    for (const p of open) p.close().catch(() => {});
    await s?.stop();
  });

  for (const from of ["xr", "json", "protobuf"] as const) {
    test(`every kind from a ${from} sender reaches the other two formats with its content, stamped`, async () => {
      const r = room(`kinds-${from}`);
      const sender = await peerOf(r, from, "sender");
      const receivers = await Promise.all((["xr", "json", "protobuf"] as const).filter((f) => f !== from).map((f) => peerOf(r, f, `to-${f}`)));
      for (const k of KINDS) sender.send(k.type, k.payload, k.xr?.(sender.clientId));
      for (const rcv of receivers) {
        for (const k of KINDS) {
          const g = await rcv.next(k.type, k.pick ?? (() => true));
          k.check(g, sender.clientId, rcv.format);
          expect(g.messageId).not.toBe("");
          expect(near(g.timestamp)).toBe(true);
        }
        expect(rcv.received().filter((g) => g.type === MessageType.ERROR)).toEqual([]);
      }
      expect(sender.received().filter((g) => g.type === MessageType.ERROR).map((g) => g.get("message"))).toEqual([]);
      for (const p of [sender, ...receivers]) expect(p.problems()).toEqual([]);
    });
  }

  test("an xr client: JSON hello it adopts, a PRESENCE_JOIN naming the host, silent pings, errors as xr frames", async () => {
    const r = room("hello");
    const first = await xr(r, "Ann");
    const c = new XrClient(s.ws, r, { userId: "u-b", displayName: "Bob", clientId: "bob-asked" });
    const bob = xrPeer(c);
    open.push(bob);
    const hello = await bob.hello;
    expect(hello).toMatchObject({ type: "SERVER_HELLO", room_id: r, client_id: "bob-asked", host_client_id: first.clientId, format: "xr" });
    expect(hello.initial_state.players.map((p: any) => p.clientId).sort()).toEqual([first.clientId, "bob-asked"].sort());
    const self = await bob.next(XR.PRESENCE_JOIN, (g) => g.get("client_id") === "bob-asked");
    expect(c.messages.find((m) => m.type === XR.PRESENCE_JOIN)!.payload.host_client_id).toBe(first.clientId);
    expect(self.get("data.host_client_id")).toBe(first.clientId);
    const join = await first.next(XR.PRESENCE_JOIN, (g) => g.get("client_id") === "bob-asked");
    expect(join.get("data.host_client_id")).toBe(first.clientId);
    // The keepalive every 30 s: answered with the text GraphWiz-XR takes silently; never relayed.
    c.ping();
    await c.until(() => c.texts.find((t) => t.type === 255), "ping answer");
    expect(c.texts.find((t) => t.type === 255).payload.serverTime).toBeGreaterThan(0);
    // A bad frame gets an ERROR as an xr frame, naming the frame's messageId.
    const id = c.send(XR.CHAT_MESSAGE, { message: 5 });
    const err = await bob.next(XR.ERROR);
    expect([err.get("code"), err.get("ref_message_id")]).toEqual(["BAD_MESSAGE", id]);
    // Untyped text from a JSON client reaches JSON clients, never xr ones (their parser would warn).
    const plain = new TestClient(`${s.ws}/ws/${r}?client_id=plain`);
    const listener = new TestClient(`${s.ws}/ws/${r}?client_id=listener`);
    await Promise.all([plain.opened, listener.opened]);
    await first.next(XR.PRESENCE_JOIN, (g) => g.get("client_id") === "listener");
    plain.send("just text");
    await listener.until((inbox) => inbox.includes("just text"), 5000, "the relayed text");
    c.ping(); // a frame after the text: once its answer is in, the text would have been too
    await c.until(() => (c.texts.filter((t) => t.type === 255).length === 2 ? true : undefined), "second ping answer");
    plain.close();
    listener.close();
    expect(first.received().filter((g) => g.type === MessageType.PING || g.type === MessageType.PONG)).toEqual([]);
    for (const p of [first, bob]) expect(p.problems()).toEqual([]);
  });

  test("host: first member, then the longest-present one, in every format's hello and presence", async () => {
    const r = room("host");
    const a = await xr(r, "A");
    const b = await raw(r, "protobuf", "b");
    const c = await raw(r, "json", "c");
    const d = await xr(r, "D");
    expect((await c.hello).host_client_id).toBe(a.clientId);
    expect((await d.hello).host_client_id).toBe(a.clientId);
    await a.close();
    for (const p of [b, c, d]) {
      const leave = await p.next(MessageType.PRESENCE_LEAVE, (g) => g.get("client_id") === a.clientId);
      expect(leave.get("data.host_client_id")).toBe("b");
      const announce = await p.next(MessageType.PRESENCE_UPDATE, (g) => g.get("data.host_client_id") === "b");
      expect(announce.get("client_id")).toBe("b");
    }
    const late = await xr(r, "Late");
    expect((await late.hello).host_client_id).toBe("b");
    expect((await late.next(XR.PRESENCE_JOIN, (g) => g.get("client_id") === late.clientId)).get("data.host_client_id")).toBe("b");
    for (const p of [d, late]) expect(p.problems()).toEqual([]);
  });

  test("grab: one holder at a time, CONFLICT for others, late joiners see it, released when the holder leaves", async () => {
    const r = room("grab");
    const a = await xr(r, "A");
    const b = await raw(r, "json", "b");
    a.send(XR.OBJECT_GRAB, {}, { entityId: "grab-cube-1", clientId: a.clientId, position: vec(2, 1, 0), timestamp: Date.now() });
    await b.next(MessageType.OBJECT_GRAB);
    b.send(MessageType.OBJECT_GRAB, { entity_id: "grab-cube-1" });
    expect((await b.next(MessageType.ERROR)).get("code")).toBe("CONFLICT");
    const late = await raw(r, "protobuf", "late");
    const holder = (await late.hello).initial_state.players.find((p: any) => p.client_id === a.clientId);
    expect(holder.holding).toEqual([expect.objectContaining({ entity_id: "grab-cube-1", client_id: a.clientId })]);
    await a.close();
    const rel = await late.next(MessageType.OBJECT_RELEASE);
    expect([rel.get("entity_id"), rel.get("client_id")]).toEqual(["grab-cube-1", a.clientId]);
    b.send(MessageType.OBJECT_GRAB, { entity_id: "grab-cube-1" });
    expect((await late.next(MessageType.OBJECT_GRAB, (g) => g.get("client_id") === "b")).get("entity_id")).toBe("grab-cube-1");
  });

  test("a client that chose no format becomes xr with its first xr frame", async () => {
    const r = room("detect");
    const j = await raw(r, "json", "talker");
    const c = new XrClient(s.ws, r, { userId: "u", displayName: "NoQuery", clientId: "noquery", path: `${s.ws}/ws/${r}?client_id=noquery` });
    const p = xrPeer(c);
    open.push(p);
    expect((await p.hello).format).toBe("json"); // decided only by the first frame
    await p.next(XR.PRESENCE_JOIN, (g) => g.get("client_id") === "noquery");
    j.send(MessageType.CHAT_MESSAGE, { message: "to xr" });
    expect((await p.next(XR.CHAT_MESSAGE)).get("message")).toBe("to xr");
    expect(p.problems()).toEqual([]);
    // And an explicit ?format=xr works without room_id too.
    const q = new TestClient(`${s.ws}/ws/${r}?format=xr&client_id=q`);
    await q.opened;
    const [hello] = await q.frames(2);
    expect(JSON.parse(hello as string).format).toBe("xr");
    q.send(xrFrame(XR.CHAT_MESSAGE, { message: "from q" }));
    expect((await j.next(MessageType.CHAT_MESSAGE, (g) => g.get("from_client_id") === "q")).get("message")).toBe("from q");
    q.close();
    // And so does the subprotocol `xr`.
    const sp = new TestClient(`${s.ws}/ws/${r}?client_id=sp`, "xr");
    await sp.opened;
    expect(sp.ws.protocol).toBe("xr");
    expect(JSON.parse((await sp.frames(1))[0] as string).format).toBe("xr");
    sp.close();
  });
});
