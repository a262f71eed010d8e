/**
 * The hello's world state put together from each player's cached encoding is exactly what
 * encoding the whole `World.snapshot()` gives, in every format — also after the changes that
 * must drop a player's cached encoding (pose, presence fields, holds, restore, leave, rejoin).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { encodeWorldState } from "../../src/core/hello-state.ts";
import { hold, unhold } from "../../src/core/holds.ts";
import { World } from "../../src/core/world.ts";
import { objectOut } from "../../src/protocol/json.ts";
import { root } from "../../src/protocol/proto.ts";
import { FORMATS, type Format } from "../../src/protocol/types.ts";
import { xrWorldState } from "../../src/protocol/xr.ts";

const WorldStateProto = root.lookupType("graphwiz.core.WorldState");
const LIMITS = { entities: 1000, entityBytes: 1 << 20, components: 100, roomBytes: 1 << 24 };

/** How the hello encoded the state before: the whole snapshot at once. */
function whole(world: World, format: Format): string | Uint8Array {
  const s = world.snapshot();
  if (format === "protobuf") return WorldStateProto.encode(s as never).finish();
  return JSON.stringify(format === "xr" ? xrWorldState(s) : objectOut(WorldStateProto, s as Record<string, unknown>));
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
