/**
 * Pieces both cluster backends share: defaults, the unavailable error, the health cell, the
 * holder record format and the byte helpers (the seq/epoch suffix of log entries, the node
 * envelope of bus frames).
 * @module
 */
import type { ByteArena } from "../lib/frame-alloc.ts";
import { VarintReader, varintLength, writeVarint } from "../lib/varint.ts";
import type { BackendStatus, Holder } from "./types.ts";

/** Defaults of the backend options (the server's config passes its own values). */
export const CLUSTER_DEFAULTS = {
  /** A node whose last heartbeat is older than this is dead. */
  nodeTtlMs: 15_000,
  /** Reliable messages kept per room (the Redis stream keeps at least this many: `MAXLEN ~`). */
  historySize: 1_000,
  /** A room's log (epoch, seq, history) is forgotten after this long without an append. */
  historyTtlMs: 120_000,
  /** Room presence keys and a node's room set expire after this long unless refreshed by heartbeats. */
  presenceTtlMs: 86_400_000,
  /** Redis key and channel prefix. */
  prefix: "graphwiz",
} as const;

/** A cluster call failed because the backend is unreachable; the caller falls back or retries later. */
export class ClusterUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ClusterUnavailableError";
  }
}

/** A health value with change listeners (fires only on change; listener errors are contained). */
export class StatusCell {
  #status: BackendStatus;
  readonly #listeners: ((s: BackendStatus) => void)[] = [];

  constructor(initial: BackendStatus = { healthy: true }) {
    this.#status = initial;
  }
  get(): BackendStatus {
    return this.#status;
  }
  on(cb: (s: BackendStatus) => void): void {
    this.#listeners.push(cb);
  }
  set(healthy: boolean, reason?: string): void {
    const cur = this.#status;
    if (cur.healthy === healthy && (healthy || cur.reason === reason)) return;
    const next: BackendStatus = healthy ? { healthy } : { healthy, reason };
    this.#status = next;
    for (const cb of this.#listeners) {
      try {
        cb(next);
      } catch {
        // a listener's failure must not break the backend's own state handling
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sequence varints: `frame ‖ 0x20 varint(seq) ‖ 0x28 varint(epoch)` sets Message.seq (field 4)
// and Message.epoch (field 5), because the encoded Message is the last part of the frame and
// the last value of a scalar field wins. The Redis script encodes the same way.

/** Protobuf tag of `Message.seq` (field 4, varint). */
export const SEQ_TAG = 0x20;
/** Protobuf tag of `Message.epoch` (field 5, varint). */
export const EPOCH_TAG = 0x28;

/** `frame ‖ seq ‖ epoch` as one new array (one allocation, one copy), from `arena` if given. */
export function sequenced(frame: Uint8Array, seq: number, epoch: number, arena?: ByteArena): Uint8Array {
  const n = frame.length + 2 + varintLength(seq) + varintLength(epoch);
  const out = arena ? arena.alloc(n) : new Uint8Array(n);
  out.set(frame, 0);
  let p = frame.length;
  out[p++] = SEQ_TAG;
  p = writeVarint(out, p, seq);
  out[p++] = EPOCH_TAG;
  writeVarint(out, p, epoch);
  return out;
}


// ---------------------------------------------------------------------------------------------
// Node envelope of a bus frame: `0xC1 ‖ u8 nodeIdLen ‖ nodeId (UTF-8) ‖ payload`. The first
// byte is a format version so a later format can coexist during a rolling upgrade.

/** First byte of an enveloped bus frame (format version 1). */
export const ENVELOPE_V1 = 0xc1;
/**
 * First byte of an enveloped batch: `0xC2 ‖ u8 nodeIdLen ‖ nodeId ‖ (varint len ‖ frame)+` —
 * the frames one node published to one room in one tick, in order, as one Redis command.
 */
export const ENVELOPE_BATCH = 0xc2;

/** Calls `each` with every frame of a batch payload (the bytes after the node id), in order. */
export function forEachBatched(payload: Uint8Array, each: (frame: Uint8Array) => void): boolean {
  const r = new VarintReader(payload);
  while (r.pos < payload.length) {
    const len = r.read();
    if (len < 0 || r.pos + len > payload.length) return false;
    each(payload.subarray(r.pos, r.pos + len));
    r.pos += len;
  }
  return true;
}

const utf8 = new TextEncoder();

/** The envelope header for `nodeId` (computed once per node). */
export function envelopeHeader(nodeId: string): Uint8Array {
  const id = utf8.encode(nodeId);
  if (id.length === 0 || id.length > 255) throw new RangeError(`Node id must be 1-255 bytes of UTF-8, got ${id.length}`);
  const h = new Uint8Array(2 + id.length);
  h[0] = ENVELOPE_V1;
  h[1] = id.length;
  h.set(id, 2);
  return h;
}

/**
 * Reads envelopes without allocating a string per frame: node ids seen before are recognised
 * by their bytes. Returns the sender's id, or `null` for a malformed frame.
 */
export class EnvelopeReader {
  readonly #known: { bytes: Uint8Array; id: string }[] = [];
  readonly #decoder = new TextDecoder();

  /** The sender node id of `env`, or `null` when `env` is not a valid envelope. */
  sender(env: Uint8Array): string | null {
    if (env.length < 2 || (env[0] !== ENVELOPE_V1 && env[0] !== ENVELOPE_BATCH)) return null;
    const len = env[1]!;
    if (len === 0 || env.length < 2 + len) return null;
    const known = this.#known;
    outer: for (let k = 0; k < known.length; k++) {
      const b = known[k]!.bytes;
      if (b.length !== len) continue;
      for (let i = 0; i < len; i++) if (b[i] !== env[2 + i]) continue outer;
      return known[k]!.id;
    }
    const bytes = env.slice(2, 2 + len);
    const id = this.#decoder.decode(bytes);
    if (known.length >= 1024) known.length = 0; // bounded: node ids churn only on restarts
    known.push({ bytes, id });
    return id;
  }
  /** Offset of the payload in `env` (valid after {@link sender} returned non-null). */
  static payloadOffset(env: Uint8Array): number {
    return 2 + env[1]!;
  }
}

// ---------------------------------------------------------------------------------------------
// Holder records: both stores keep the same compact JSON, so what one returns the other would.

/** A holder as stored: `{"u":user,"t":token,"n":node[,"c":conn][,"d":detachedUntil]}`. */
export function encodeHolder(h: Holder): string {
  const o: Record<string, unknown> = { u: h.user, t: h.token, n: h.node };
  if (h.conn !== undefined) o.c = h.conn;
  if (h.detachedUntil !== undefined) o.d = h.detachedUntil;
  return JSON.stringify(o);
}

/** A stored holder back, or `undefined` when the JSON is not one. */
export function decodeHolder(json: string): Holder | undefined {
  try {
    const o = JSON.parse(json) as { u?: unknown; t?: unknown; n?: unknown; c?: unknown; d?: unknown };
    if (typeof o.t !== "string" || typeof o.n !== "string") return undefined;
    const h: Holder = { user: typeof o.u === "string" ? o.u : null, token: o.t, node: o.n };
    if (typeof o.c === "string") h.conn = o.c;
    if (typeof o.d === "number") h.detachedUntil = o.d;
    return h;
  } catch {
    return undefined;
  }
}

/** The key of a due-hold entry: `room ‖ LF ‖ client id ‖ LF ‖ token` (ids never contain LF). */
export function dueKey(room: string, clientId: string, token: string): string {
  return `${room}\n${clientId}\n${token}`;
}

/** A due-hold key back. */
export function parseDueKey(key: string): { room: string; clientId: string; token: string } | undefined {
  const [room, clientId, token, extra] = key.split("\n");
  return room === undefined || clientId === undefined || token === undefined || extra !== undefined ? undefined : { room, clientId, token };
}
