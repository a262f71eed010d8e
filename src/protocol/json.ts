/**
 * The JSON side of the protocol, driven by the protobuf schema so both formats stay one model.
 * In: snake_case or camelCase field names, enum names or numbers, bytes as base64, every value
 * type-checked. Out: snake_case, enums as names, bytes as base64, unset messages omitted.
 * @module
 */
import protobuf from "protobufjs/light.js";
import { DecodeError, MessageProto, root } from "./proto.ts";

type Field = protobuf.Field & { map?: boolean; keyType?: string };
interface FieldInfo {
  field: Field;
  /** Scalar type name, or "message" / "enum". */
  kind: string;
  type?: protobuf.Type;
  enumType?: protobuf.Enum;
}
interface TypeInfo {
  fields: FieldInfo[];
  /** Field lookup by snake_case and camelCase name. */
  byName: Map<string, FieldInfo>;
}

const infos = new Map<protobuf.Type, TypeInfo>();
/** snake_case → camelCase. */
export const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function info(type: protobuf.Type): TypeInfo {
  let ti = infos.get(type);
  if (ti) return ti;
  ti = { fields: [], byName: new Map() };
  infos.set(type, ti);
  for (const f of type.fieldsArray as Field[]) {
    const r = f.resolvedType;
    const fi: FieldInfo = r instanceof protobuf.Type
      ? { field: f, kind: "message", type: r }
      : r instanceof protobuf.Enum
      ? { field: f, kind: "enum", enumType: r }
      : { field: f, kind: f.type };
    ti.fields.push(fi);
    ti.byName.set(f.name, fi);
    ti.byName.set(camel(f.name), fi);
  }
  return ti;
}

const INT32 = new Set(["int32", "sint32", "sfixed32"]);
const UINT32 = new Set(["uint32", "fixed32"]);
const INT64 = new Set(["int64", "sint64", "sfixed64", "uint64", "fixed64"]);

function bad(path: string, expected: string, got: unknown): never {
  const shown = typeof got === "string" ? JSON.stringify(got.slice(0, 40))
    : typeof got === "number" || typeof got === "boolean" ? String(got)
    : Array.isArray(got) ? "an array" : got === null ? "null" : typeof got;
  throw new DecodeError(`Field ${path} must be ${expected}, got ${shown}`);
}

function scalarIn(fi: FieldInfo, v: unknown, path: string): unknown {
  const k = fi.kind;
  if (k === "string") return typeof v === "string" ? v : bad(path, "a string", v);
  if (k === "bool") return typeof v === "boolean" ? v : bad(path, "true or false", v);
  if (k === "float" || k === "double") return typeof v === "number" && Number.isFinite(v) ? v : bad(path, "a finite number", v);
  if (k === "bytes") {
    if (typeof v !== "string") bad(path, "a base64 string", v);
    try {
      return fromBase64(v as string);
    } catch {
      bad(path, "a base64 string", v);
    }
  }
  if (k === "enum") {
    const values = fi.enumType!.values;
    if (typeof v === "string" && v in values) return values[v];
    if (typeof v === "number" && Object.values(values).includes(v)) return v;
    return bad(path, `one of ${Object.keys(values).join(", ")}`, v);
  }
  const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) return bad(path, "a whole number", v);
  if (INT32.has(k) && (n < -2147483648 || n > 2147483647)) bad(path, "a 32-bit integer", v);
  if (UINT32.has(k) && (n < 0 || n > 4294967295)) bad(path, "an unsigned 32-bit integer", v);
  if (k.startsWith("uint") || k.startsWith("fixed")) if (n < 0) bad(path, "a non-negative whole number", v);
  if (!INT32.has(k) && !UINT32.has(k) && !INT64.has(k)) bad(path, k, v);
  return n;
}

function valueIn(fi: FieldInfo, v: unknown, path: string): unknown {
  return fi.kind === "message" ? objectIn(fi.type!, v, path) : scalarIn(fi, v, path);
}

/**
 * Converts a JSON value to the in-memory shape of `type`, checking every field.
 * Unknown fields are ignored (forward compatibility).
 * @throws {DecodeError} naming the first bad field.
 */
export function objectIn(type: protobuf.Type, obj: unknown, path = type.name): Record<string, unknown> {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) bad(path, "an object", obj);
  const ti = info(type);
  const out: Record<string, unknown> = {};
  for (const key in obj as Record<string, unknown>) {
    const fi = ti.byName.get(key);
    const v = (obj as Record<string, unknown>)[key];
    if (!fi || v === null || v === undefined) continue;
    const p = `${path}.${fi.field.name}`;
    if (fi.field.map) {
      if (typeof v !== "object" || Array.isArray(v)) bad(p, "an object", v);
      const m: Record<string, unknown> = {};
      for (const mk in v as Record<string, unknown>) m[mk] = valueIn(fi, (v as Record<string, unknown>)[mk], `${p}.${mk}`);
      out[fi.field.name] = m;
    } else if (fi.field.repeated) {
      if (!Array.isArray(v)) bad(p, "an array", v);
      out[fi.field.name] = (v as unknown[]).map((x, i) => valueIn(fi, x, `${p}[${i}]`));
    } else out[fi.field.name] = valueIn(fi, v, p);
  }
  return out;
}

/**
 * How {@link objectOut} writes: the JSON format's snake_case with enum names (the default), or
 * the xr format's camelCase with enum numbers (see xr.ts).
 */
export interface OutStyle {
  /** camelCase field names. @default false */
  camel?: boolean;
  /** Enums as numbers instead of names. @default false */
  enumNumbers?: boolean;
  /** Message fields written (as an object of defaults) even when unset; top level only. @default none */
  always?: readonly string[];
}
const SNAKE: OutStyle = {};

function valueOut(fi: FieldInfo, v: unknown, style: OutStyle): unknown {
  if (fi.kind === "message") return objectOut(fi.type!, v as Record<string, unknown>, undefined, style.always ? { ...style, always: undefined } : style);
  if (fi.kind === "enum") return style.enumNumbers ? v : fi.enumType!.valuesById[v as number] ?? v;
  if (fi.kind === "bytes") return toBase64(v as Uint8Array);
  return v;
}

/**
 * Converts an in-memory message of `type` to its JSON form: snake_case, enum names, base64 bytes,
 * unset messages omitted — or as `style` says.
 */
export function objectOut(type: protobuf.Type, msg: Record<string, unknown>, skip?: Set<string>, style: OutStyle = SNAKE): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const fi of info(type).fields) {
    const name = fi.field.name;
    if (skip?.has(name) || fi.field.partOf) continue;
    const key = style.camel ? camel(name) : name;
    const v = msg[name];
    if (fi.field.map) {
      if (!v) continue;
      const m: Record<string, unknown> = {};
      for (const k in v as Record<string, unknown>) m[k] = valueOut(fi, (v as Record<string, unknown>)[k], style);
      out[key] = m;
    } else if (fi.field.repeated) out[key] = ((v as unknown[]) ?? []).map((x) => valueOut(fi, x, style));
    else if (v === null || v === undefined) {
      if (fi.kind !== "message") out[key] = valueOut(fi, fi.field.typeDefault, style);
      else if (style.always?.includes(name)) out[key] = objectOut(fi.type!, {}, undefined, { ...style, always: undefined });
    } else out[key] = valueOut(fi, v, style);
  }
  return out;
}

/** The protobuf type of each payload field of the envelope. */
export function payloadType(name: string): protobuf.Type {
  return (MessageProto.fields[name].resolvedType as protobuf.Type) ?? root.lookupType(name);
}

const CHUNK = 0x8000;
/** Base64 of bytes, with the globals every runtime has. */
export function toBase64(bytes: Uint8Array): string {
  if (!bytes || bytes.length === 0) return "";
  let s = "";
  for (let i = 0; i < bytes.length; i += CHUNK) s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(s);
}
const BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;
/** Bytes of a base64 string (standard or URL alphabet, padding optional). Throws if not base64. */
export function fromBase64(s: string): Uint8Array {
  if (!BASE64.test(s)) throw new Error("not base64");
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
