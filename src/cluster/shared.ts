/**
 * Pieces both cluster backends share: defaults, the unavailable error, the health cell and the
 * byte helpers (sequence varints appended to a frame, the node envelope of bus frames).
 * @module
 */
import type { BackendStatus, SessionRecord } from "./types.ts";

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
// Session records: both stores keep the same JSON (known fields only, `connection_id` omitted
// while detached), so what one returns is what the other would.

/** Longest session id the stores accept (the hub's ids are 22 characters). */
export const MAX_SESSION_ID_LENGTH = 256;

/** Whether `id` can name a stored session (a longer or empty id is never stored, so never found). */
export function validSessionId(id: unknown): id is string {
  return typeof id === "string" && id.length > 0 && id.length <= MAX_SESSION_ID_LENGTH;
}

/**
 * The record as stored, and its lifetime in whole milliseconds.
 * @throws {RangeError} for an empty or over-long id, or a TTL that is not a positive number.
 */
export function encodeSession(s: SessionRecord, ttlMs: number): { json: string; ttl: number } {
  if (!validSessionId(s.id)) throw new RangeError(`Session id must be 1-${MAX_SESSION_ID_LENGTH} characters`);
  if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) throw new RangeError(`Session TTL must be a positive number of ms, got ${ttlMs}`);
  const r: SessionRecord = { id: s.id, room_id: s.room_id, user_id: s.user_id ?? null, client_id: s.client_id, node_id: s.node_id };
  if (s.connection_id !== undefined) r.connection_id = s.connection_id;
  return { json: JSON.stringify(r), ttl: Math.ceil(ttlMs) };
}

/** The stored JSON back as a record, or `undefined` when it is not one. */
export function decodeSession(json: string): SessionRecord | undefined {
  try {
    const r = JSON.parse(json) as SessionRecord;
    return r && typeof r === "object" && typeof r.id === "string" && typeof r.room_id === "string" ? r : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Sequence varints: `frame ‖ 0x20 varint(seq) ‖ 0x28 varint(epoch)` sets Message.seq (field 4)
// and Message.epoch (field 5), because the encoded Message is the last part of the frame and
// the last value of a scalar field wins. Arithmetic, not bit operations, so seq may exceed 2^32
// (exact up to 2^53); the Redis script encodes the same way.

/** Protobuf tag of `Message.seq` (field 4, varint). */
export const SEQ_TAG = 0x20;
/** Protobuf tag of `Message.epoch` (field 5, varint). */
export const EPOCH_TAG = 0x28;

/** Bytes of the unsigned varint of `n` (a non-negative integer ≤ 2^53). */
export function varintLength(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Writes the unsigned varint of `n` at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) + 128;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** `frame ‖ seq ‖ epoch` as one new array (one allocation, one copy). */
export function sequenced(frame: Uint8Array, seq: number, epoch: number): Uint8Array {
  const out = new Uint8Array(frame.length + 2 + varintLength(seq) + varintLength(epoch));
  out.set(frame, 0);
  let p = frame.length;
  out[p++] = SEQ_TAG;
  p = writeVarint(out, p, seq);
  out[p++] = EPOCH_TAG;
  writeVarint(out, p, epoch);
  return out;
}

/** A random epoch: a non-zero uint32 (0 means "no epoch" on the wire). */
export function randomEpoch(): number {
  const a = new Uint32Array(1);
  do crypto.getRandomValues(a);
  while (a[0] === 0);
  return a[0]!;
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
  let at = 0;
  while (at < payload.length) {
    let len = 0, mul = 1, x: number;
    do {
      if (at >= payload.length) return false;
      x = payload[at++]!;
      len += (x & 0x7f) * mul;
      mul *= 128;
    } while (x & 0x80);
    if (at + len > payload.length) return false;
    each(payload.subarray(at, at + len));
    at += len;
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
