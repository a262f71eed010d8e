/**
 * The SDK's room-state shapes (players, entities, holds) and the pure helpers that build them
 * from the server's messages the way the server's world builds its own copy.
 * @module
 */
import type { EntitySnapshot, ObjectGrab, PlayerSnapshot, PresenceData, Quaternion, Vector3 } from "../protocol/types.ts";
// The server's own rule for component text (a pure function), so both sides agree by construction.
import { componentText } from "../protocol/component-text.ts";

/** A member of the room: the server's PlayerSnapshot (empty strings are left out; holds are in `holds`). */
export type Player = Omit<PlayerSnapshot, "client_id" | "holding"> & { client_id: string };
/** A shared object: the server's EntitySnapshot. Components are text (see docs/protocol.md). */
export type Entity = Omit<EntitySnapshot, "id" | "template_id" | "owner_id" | "components"> & {
  id: string;
  template_id: string;
  owner_id: string;
  components: Record<string, string>;
};
/** Who holds an object (OBJECT_GRAB): the object's id, its holder, where it was grabbed, when (server ms). */
export type Hold = Omit<ObjectGrab, "entity_id" | "client_id" | "timestamp"> & { entity_id: string; client_id: string; timestamp: number };
/**
 * Where a change came from: a server message, this client's own send (`local`), the hello's
 * snapshot after a (re)connect (`snapshot`), or the undoing of an own send the server refused (`revert`).
 */
export type ChangeSource = "server" | "local" | "snapshot" | "revert";

/** The presence fields a player keeps (what the server's PlayerSnapshot has, but the id and holds). */
const PLAYER_FIELDS = ["user_id", "display_name", "avatar_url", "avatar_config", "position", "rotation", "joined_at"] as const;

/** Plain copies (protobuf-decoded objects keep defaults on their prototype). */
export const vec = (v: Vector3): Vector3 => ({ x: v.x ?? 0, y: v.y ?? 0, z: v.z ?? 0 });
export const quat = (q: Quaternion): Quaternion => ({ x: q.x ?? 0, y: q.y ?? 0, z: q.z ?? 0, w: q.w ?? 0 });
function plain(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = (o as Record<string, unknown>)[k];
    if (typeof v !== "function" && !k.startsWith("$")) out[k] = v;
  }
  return out;
}
/** Whether a decoded field is set (protobuf and JSON leave unset fields empty or absent). */
export const set = (v: unknown): boolean => v !== undefined && v !== null && v !== "" && v !== 0;

/** Merges presence fields into a player the way the server does: unset and empty fields keep the old value. */
export function mergePlayer(p: Player, data: PresenceData | Record<string, unknown>): Player {
  const d = data as Record<string, unknown>;
  for (const k of PLAYER_FIELDS) {
    const v = d[k];
    if (!set(v)) continue;
    (p as unknown as Record<string, unknown>)[k] = k === "position" ? vec(v as Vector3) : k === "rotation" ? quat(v as Quaternion) : typeof v === "object" ? plain(v as object) : v;
  }
  return p;
}
export function entityFrom(e: Record<string, unknown>): Entity {
  const out: Entity = { id: String(e.id ?? ""), template_id: String(e.template_id ?? ""), owner_id: String(e.owner_id ?? ""), components: { ...(e.components as Record<string, string>) } };
  if (set(e.position)) out.position = vec(e.position as Vector3);
  if (set(e.rotation)) out.rotation = quat(e.rotation as Quaternion);
  return out;
}
/** A hold as the room keeps it, from an OBJECT_GRAB (or a snapshot's `holding` entry). */
export function holdFrom(g: ObjectGrab, holder = g.client_id ?? ""): Hold {
  const out: Hold = { entity_id: g.entity_id ?? "", client_id: holder, timestamp: Number(g.timestamp ?? 0) };
  if (set(g.position)) out.position = vec(g.position!);
  return out;
}
/** Deep equality of plain data, whatever the key order. */
const canon = (v: unknown): unknown =>
  v && typeof v === "object" ? Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]) : v;
export const same = (a: unknown, b: unknown) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));

/** EntityUpdate components (bytes) as the room's text. */
export function texts(components: Record<string, Uint8Array | string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in components) {
    const v = components[k]!;
    out[k] = typeof v === "string" ? v : componentText(v);
  }
  return out;
}
