/**
 * Entity component values across the formats. `EntitySpawn.components` are strings,
 * `EntityUpdate.components` bytes, the room's copy strings; GraphWiz-XR's client (xr frames)
 * sends and expects JSON values (`{"position":{"x":1,…}}`). The rules, in both directions:
 *
 * - bytes → text: UTF-8 bytes become their text, anything else `base64:<data>`;
 * - xr in: a string stays that string; any other JSON value becomes its JSON text;
 * - xr out: a string that is the JSON text of an object or array goes out as that object or
 *   array (so what an xr client sent comes back to xr clients as it was); every other string
 *   stays a string.
 * @module
 */
import { DecodeError } from "./proto.ts";

export { componentText } from "./component-text.ts";

/** An xr `components` object as strings (non-string values as their JSON text). */
export function componentsIn(v: unknown, path: string): Record<string, string> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new DecodeError(`Field ${path} must be an object`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    out[k] = typeof x === "string" ? x : JSON.stringify(x);
  }
  return out;
}

/** A stored component string as an xr recipient gets it (JSON objects and arrays restored). */
export function componentOut(s: string): unknown {
  const c = s.charCodeAt(0);
  if (c !== 0x7b && c !== 0x5b) return s; // only "{…}" and "[…]" can be restored
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
