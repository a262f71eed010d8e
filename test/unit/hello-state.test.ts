/**
 * The hello's world state put together from each player's cached encoding is exactly what
 * encoding the whole `World.snapshot()` gives, in every format — also after the changes that
 * must drop a player's cached encoding (pose, presence fields, holds, restore, leave, rejoin).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Connection } from "../../src/core/connection.ts";
import { helloFrames } from "../../src/core/hello.ts";
import { copyPieces, stateBytes, stateText } from "../../src/core/hello-state.ts";
import { Room } from "../../src/core/room.ts";
import { hold, unhold } from "../../src/core/holds.ts";
import { World } from "../../src/core/world.ts";
import { objectOut } from "../../src/protocol/json.ts";
import { encodeBinary, root } from "../../src/protocol/proto.ts";
import { FORMATS, MessageType, type Format } from "../../src/protocol/types.ts";
import { SERVER_VERSION } from "../../src/version.ts";
import { hostOf } from "../../src/core/host.ts";
import { varintLength, writeVarint } from "../../src/lib/varint.ts";
import { xrWorldState } from "../../src/protocol/xr.ts";

const WorldStateProto = root.lookupType("graphwiz.core.WorldState");
const ServerHelloProto = root.lookupType("graphwiz.core.ServerHello");
const LIMITS = { entities: 1000, entityBytes: 1 << 20, components: 100, roomBytes: 1 << 24 };

/** How the hello encoded the state before: the whole snapshot at once. */
function whole(world: World, format: Format): string | Uint8Array {
  const s = world.snapshot();
  if (format === "protobuf") return WorldStateProto.encode(s as never).finish();
  return JSON.stringify(format === "xr" ? xrWorldState(s) : objectOut(WorldStateProto, s as Record<string, unknown>));
}

/** The state as the hello now encodes it. */
function encodeWorldState(world: World, format: Format): string | Uint8Array {
  if (format !== "protobuf") return stateText(world, format, "", "");
  const s = stateBytes(world);
  const out = new Uint8Array(s.length);
  expect(copyPieces(out, 0, s.pieces)).toBe(s.length);
  return out;
}

function same(world: World): void {
  for (const f of FORMATS) {
    const got = encodeWorldState(world, f);
    const want = whole(world, f);
    if (typeof want === "string") expect(got).toBe(want);
    else expect([...(got as Uint8Array)]).toEqual([...want]);
  }
}

const text = fc.string({ maxLength: 12 });
const vec = fc.record({ x: fc.double({ noNaN: true, noDefaultInfinity: true }), y: fc.integer(), z: fc.constant(0.5) });
const quat = fc.record({ x: fc.constant(0), y: fc.double({ noNaN: true, noDefaultInfinity: true }), z: fc.constant(0), w: fc.constant(1) });
const componentValue = fc.oneof(text, fc.constant('{"players":[],"a":[1,2]}'), fc.constant("[1,2,3]"));

type Op =
  | { k: "join"; id: number; name?: string; user?: string }
  | { k: "pose"; id: number; position: { x: number; y: number; z: number }; rotation?: { x: number; y: number; z: number; w: number } }
  | { k: "name"; id: number; name: string; avatar?: string }
  | { k: "grab"; id: number; obj: string }
  | { k: "release"; id: number; obj: string }
  | { k: "restore"; id: number }
  | { k: "leave"; id: number }
  | { k: "spawn"; id: number; owner: number; components: Record<string, string>; position?: { x: number; y: number; z: number } }
  | { k: "despawn"; id: number };

const id = fc.integer({ min: 0, max: 6 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant("join" as const), id, name: fc.option(text, { nil: undefined }), user: fc.option(text, { nil: undefined }) }),
  fc.record({ k: fc.constant("pose" as const), id, position: vec, rotation: fc.option(quat, { nil: undefined }) }),
  fc.record({ k: fc.constant("name" as const), id, name: text, avatar: fc.option(text, { nil: undefined }) }),
  fc.record({ k: fc.constant("grab" as const), id, obj: fc.constantFrom("a", "b", "c") }),
  fc.record({ k: fc.constant("release" as const), id, obj: fc.constantFrom("a", "b", "c") }),
  fc.record({ k: fc.constant("restore" as const), id }),
  fc.record({ k: fc.constant("leave" as const), id }),
  fc.record({ k: fc.constant("spawn" as const), id, owner: id, components: fc.dictionary(fc.constantFrom("players", "k", "é"), componentValue, { maxKeys: 3 }), position: fc.option(vec, { nil: undefined }) }),
  fc.record({ k: fc.constant("despawn" as const), id }),
);

function run(world: World, o: Op, now: number): void {
  const c = `c${o.id}`;
  switch (o.k) {
    case "join":
      if (!world.players.has(c)) world.join({ client_id: c, user_id: o.user, display_name: o.name, token: "t", joined_at: now }, now);
      return;
    case "pose":
      world.updatePlayer(c, { position: o.position, rotation: o.rotation }, now);
      return;
    case "name":
      world.updatePlayer(c, { display_name: o.name, avatar_url: o.avatar, avatar_config: { body_type: o.name, primary_color: "#fff" } }, now);
      return;
    case "grab":
      hold(world, { entity_id: o.obj, client_id: c, position: { x: 1, y: 2, z: 3 }, timestamp: now }, now);
      return;
    case "release":
      unhold(world, c, o.obj, now);
      return;
    case "restore":
      world.restorePlayer(c, { display_name: undefined, avatar_url: "back" }, now);
      return;
    case "leave":
      world.leave(c, now);
      return;
    case "spawn":
      world.spawn({ id: `e${o.id}`, template_id: "t", owner_id: `c${o.owner}`, components: o.components, position: o.position }, now);
      return;
    case "despawn":
      world.despawn(`e${o.id}`, now);
  }
}

describe("the hello's world state from cached player encodings", () => {
  test("an empty room", () => same(new World(LIMITS)));

  test("equals the whole snapshot's encoding after any sequence of changes, checked after each", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const world = new World(LIMITS);
        let now = 1_700_000_000_000;
        for (const o of ops) {
          run(world, o, (now += 7));
          same(world);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("a change made after a hello shows in the next one", () => {
    const world = new World(LIMITS);
    world.join({ client_id: "a", user_id: "u", token: "t", joined_at: 5 }, 5);
    const before = encodeWorldState(world, "json") as string;
    world.updatePlayer("a", { display_name: "Ada" }, 6);
    const after = encodeWorldState(world, "json") as string;
    expect(before).not.toContain("Ada");
    expect(after).toContain('"display_name":"Ada"');
    same(world);
  });
});

/** `prefix ‖ tag ‖ varint(len) ‖ body` (how the hello frame was put together before). */
function withField(prefix: Uint8Array, tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + 1 + varintLength(body.length) + body.length);
  out.set(prefix, 0);
  out[prefix.length] = tag;
  out.set(body, writeVarint(out, prefix.length + 1, body.length));
  return out;
}

describe("cached hello pieces of an idle room", () => {
  test("are dropped by a pass with no hello since the last one, kept while hellos come", () => {
    const world = new World(LIMITS);
    world.join({ client_id: "a", user_id: "u", token: "t", joined_at: 5 }, 5);
    const first = encodeWorldState(world, "json");
    encodeWorldState(world, "protobuf");
    const a = world.players.get("a")!;
    world.idleHellos(); // hellos since the last pass: kept
    expect(a.helloJson).toBeString();
    expect(a.helloPb).toBeString();
    world.idleHellos(); // none since: dropped
    expect(a.helloJson).toBeUndefined();
    expect(a.helloPb).toBeUndefined();
    expect(encodeWorldState(world, "json")).toBe(first);
    same(world);
  });
});

describe("the SERVER_HELLO frames", () => {
  test("are the bytes and text the whole-snapshot hello gave, for a reliable protobuf client", () => {
    const room = new Room("r1", 1000, LIMITS);
    room.epoch = 7;
    room.seq = 42;
    const now = 1_700_000_000_000;
    room.world.join({ client_id: "a", user_id: "ua", display_name: "Ada", token: "t", joined_at: now }, now);
    room.world.join({ client_id: "b", token: "t2", joined_at: now + 1 }, now + 1);
    room.world.updatePlayer("a", { position: { x: 1, y: 2, z: 3 } }, now + 2);
    room.world.spawn({ id: "e1", template_id: "box", owner_id: "a", components: { color: "red" } }, now + 3);
    const transport = { send: () => 0, bufferedAmount: () => 0, close() {}, ping() {} };
    const conn = new Connection({} as never, "conn-1", room, { roomId: "r1", userId: "ub", clientId: "b", format: "protobuf", reliable: true }, transport as never, now);
    conn.session = "sess";
    const [json, bin] = helloFrames(conn, "m-1", now + 5);
    const session = { session_id: "sess", resumed: false, epoch: 7, last_seq: 42 };
    const state = room.world.snapshot();
    const host = hostOf(room.world);
    expect(JSON.parse(json as string)).toEqual({
      type: "SERVER_HELLO", room_id: "r1", client_id: "b", timestamp: Math.floor(now / 1000), connection_id: "conn-1", server_version: SERVER_VERSION,
      user_id: "ub", format: "protobuf", host_client_id: host, ...session, initial_state: JSON.parse(JSON.stringify(objectOut(WorldStateProto, state as Record<string, unknown>))),
    });
    const hello = ServerHelloProto.encode({ server_version: SERVER_VERSION, assigned_client_id: "b", room_id: "r1", connection_id: "conn-1", user_id: "ub", host_client_id: host, ...session } as never).finish();
    const withState = withField(hello, 0x22, WorldStateProto.encode(state as never).finish());
    const envelope = encodeBinary({ message_id: "m-1", timestamp: now, type: MessageType.SERVER_HELLO });
    expect([...(bin as Uint8Array)]).toEqual([...withField(envelope, 0x5a, withState)]);
  });
});
