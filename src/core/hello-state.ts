/**
 * The world state a SERVER_HELLO carries, encoded per format from each player's cached
 * encoding. A join changes the room (its own player), so a whole-room cache would never be
 * reused by the next joiner; instead each player keeps its encoded snapshot per format until
 * it changes (World drops it on every change of that player), and a hello joins the cached
 * pieces; a room nobody joined for a keepalive pass drops them (World.idleHellos). Only the
 * entities and `last_update` are encoded per hello. The bytes and text are
 * exactly what encoding `World.snapshot()` as a whole gives (test/unit/hello-state.test.ts):
 * each join used to encode every player of the room again, and the garbage that left stayed as
 * heap capacity (memory per idle connection, issue 14).
 * @module
 */
import { varintLength, writeVarint } from "../lib/varint.ts";
import { objectOut } from "../protocol/json.ts";
import { root } from "../protocol/proto.ts";
import type { Format, WorldState } from "../protocol/types.ts";
import { xrObject, xrWorldState } from "../protocol/xr.ts";
import { entitySnapshot, playerSnapshot, type Player, type World } from "./world.ts";

const WorldStateProto = root.lookupType("graphwiz.core.WorldState");
const PlayerProto = root.lookupType("graphwiz.core.PlayerSnapshot");
/** `WorldState.players` (field 2, length-delimited). */
const PLAYERS_TAG = 0x12;
/** Where the players go in the JSON state made without them. */
const NO_PLAYERS = '"players":[]';

/**
 * One player's piece of the state: its JSON / xr object text, or its protobuf field (tag and
 * length included) as a string of one char per byte. A string, not a `Uint8Array`: the pieces
 * are kept per player, and on V8 a small array of its own costs ~0.5 KiB beyond its bytes
 * (lib/frame-alloc.ts) where a one-byte string costs a small header, on JavaScriptCore too.
 */
function piece(p: Player, format: Format): string {
  const cached = format === "protobuf" ? p.helloPb : format === "xr" ? p.helloXr : p.helloJson;
  if (cached !== undefined) return cached;
  const snap = playerSnapshot(p) as Record<string, unknown>;
  if (format === "protobuf") {
    const body = PlayerProto.encode(snap).finish();
    const field = new Uint8Array(1 + varintLength(body.length) + body.length);
    field[0] = PLAYERS_TAG;
    field.set(body, writeVarint(field, 1, body.length));
    return (p.helloPb = byteString(field));
  }
  if (format === "xr") return (p.helloXr = JSON.stringify(xrObject(PlayerProto, snap)));
  return (p.helloJson = JSON.stringify(objectOut(PlayerProto, snap)));
}

/** `b` as a string of one char (0–255) per byte. */
function byteString(b: Uint8Array): string {
  let out = "";
  for (let i = 0; i < b.length; i += 4096) out += String.fromCharCode.apply(null, b.subarray(i, i + 4096) as unknown as number[]);
  return out;
}

/**
 * `before ‖ the room's world state as JSON ‖ after`, as one string made in one go (the hello
 * is the largest thing a join makes; no intermediate copies of it). `xr`: camelCase.
 */
export function stateText(world: World, format: "json" | "xr", before: string, after: string): string {
  const entities = [];
  for (const e of world.entities.values()) entities.push(entitySnapshot(e));
  const rest: WorldState = { entities, players: [], last_update: world.lastUpdate };
  const text = JSON.stringify(format === "xr" ? xrWorldState(rest) : objectOut(WorldStateProto, rest as Record<string, unknown>));
  // The players come after every entity, so the last `"players":[]` is theirs (one inside an
  // entity's component would be before it).
  const at = text.lastIndexOf(NO_PLAYERS) + NO_PLAYERS.length - 1;
  world.helloBuilt();
  const parts: string[] = [before, text.slice(0, at)];
  let first = true;
  for (const p of world.players.values()) {
    if (!first) parts.push(",");
    parts.push(piece(p, format));
    first = false;
  }
  parts.push(text.slice(at), after);
  return parts.join("");
}

/** The room's world state as protobuf `WorldState` bytes, in pieces to be copied once into a frame. */
export interface StateBytes {
  /** Bytes, or strings of one char per byte (the players' cached pieces). */
  pieces: (Uint8Array | string)[];
  /** Their total length. */
  length: number;
}

/** The room's world state as protobuf, in the field order protobufjs writes: entities (1), players (2), last_update (3). */
export function stateBytes(world: World): StateBytes {
  const entities = [];
  for (const e of world.entities.values()) entities.push(entitySnapshot(e));
  const head = WorldStateProto.encode({ entities } as never).finish();
  world.helloBuilt();
  const pieces: (Uint8Array | string)[] = [head];
  let length = head.length;
  for (const p of world.players.values()) {
    const b = piece(p, "protobuf");
    pieces.push(b);
    length += b.length;
  }
  const tail = WorldStateProto.encode({ last_update: world.lastUpdate } as never).finish();
  pieces.push(tail);
  return { pieces, length: length + tail.length };
}

/** Copies `pieces` into `out` from `at`; returns the position after them. */
export function copyPieces(out: Uint8Array, at: number, pieces: readonly (Uint8Array | string)[]): number {
  for (const b of pieces) {
    if (typeof b !== "string") out.set(b, at), (at += b.length);
    else for (let i = 0; i < b.length; i++) out[at++] = b.charCodeAt(i);
  }
  return at;
}
