/**
 * Exact metric checks for the observability conformance tests: what the clients really received,
 * tallied by kind and format, and the server's `/metrics` JSON and Prometheus samples read in the
 * same `KIND/format` → number shape, so the two can be compared directly.
 */
import type { ParsedFamily } from "./prom-parse.ts";
import type { RunningServer } from "./server.ts";
import type { Received, TestClient } from "./client.ts";
import { decodeBinary } from "../../src/protocol/proto.ts";
import { MessageType, TYPE_NAME } from "../../src/protocol/types.ts";

export const metrics = async (s: RunningServer) => (await fetch(`${s.http}/metrics`)).json() as Promise<any>;
export const byteLen = (f: Received) => (typeof f === "string" ? Buffer.byteLength(f) : f.byteLength);

/** The kind a frame is counted under: its MessageType name, or RAW for relayed untyped text. */
export function kindOf(f: Received): string {
  if (typeof f !== "string") return TYPE_NAME[decodeBinary(f).type ?? 0]!;
  try {
    const o = JSON.parse(f);
    if (o && typeof o.type === "string" && Object.hasOwn(MessageType, o.type)) return o.type;
  } catch {}
  return "RAW";
}
const formatOf = (f: Received) => (typeof f === "string" ? "json" : "protobuf");
/** Frames after the SERVER_HELLO(s): everything the server counts as sent. */
export const counted = (c: TestClient) => c.inbox.filter((f) => kindOf(f) !== "SERVER_HELLO");

export type Tally = Record<string, { n: number; bytes: number }>;
/** `KIND/format` → count and bytes of the given frames. */
export function tally(frames: Received[]): Tally {
  const t: Tally = {};
  for (const f of frames) {
    const k = `${kindOf(f)}/${formatOf(f)}`;
    (t[k] ??= { n: 0, bytes: 0 }).n++;
    t[k].bytes += byteLen(f);
  }
  return t;
}
export const counts = (t: Tally) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.n]));
export const bytes = (t: Tally) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.bytes]));
export const total = (t: Tally, field: "n" | "bytes") => Object.values(t).reduce((a, v) => a + v[field], 0);
/** `/metrics` JSON `messages_by_kind` flattened to `KIND/format` → field. */
export function fromJson(byKind: Record<string, Record<string, Record<string, number>>>, field: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [kind, formats] of Object.entries(byKind)) for (const [format, v] of Object.entries(formats)) if (v[field]! > 0) out[`${kind}/${format}`] = v[field]!;
  return out;
}
/** Every sample of `name` as `labels…` → value (label values joined with "/", in label order). */
export function series(fams: ParsedFamily[], name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of fams) for (const s of f.samples) if (s.name === name) out[Object.values(s.labels).join("/")] = Number(s.value);
  return out;
}
export const one = (fams: ParsedFamily[], name: string) => series(fams, name)[""];
/** Waits until `c` has received `n` counted (non-hello) frames. */
export const got = (c: TestClient, n: number, what: string) => c.until(() => counted(c).length >= n, 5000, `${n} frames (${what})`);
