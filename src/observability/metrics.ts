/**
 * Server counters: plain number fields and fixed-size arrays and histograms, so the hot path
 * only increments (O(1) memory per metric, no allocation per message). Views for `/metrics`
 * are built from these on request (`core/metrics-view.ts`).
 * @module
 */
import { LatencyHistogram } from "./histogram.ts";
import { RateMeter, RollingLatency } from "./rolling.ts";
import { FORMATS, MessageType, TYPE_NAME } from "../protocol/types.ts";

/** Message kinds counted separately: every MessageType, plus RAW (relayed text) and INVALID. */
export const KINDS: readonly string[] = [...Object.keys(MessageType), "RAW", "INVALID"];
// Slot per MessageType number (they are 0–255), 0 (UNKNOWN) for any other: an array read, not a Map lookup, twice per message.
const SLOT_OF_TYPE = new Uint8Array(256);
Object.values(MessageType).forEach((v, i) => (SLOT_OF_TYPE[v] = i));
/** Slot of relayed text that is not a typed message. */
export const RAW_SLOT = KINDS.indexOf("RAW");
/** Slot of frames that could not be decoded. */
export const INVALID_SLOT = KINDS.indexOf("INVALID");
/** The counting slot of a MessageType. */
export const slotOf = (type: number | undefined): number => (type === undefined ? 0 : SLOT_OF_TYPE[type] ?? 0);
/** Formats are counted in three columns: 0 = JSON (text), 1 = protobuf (binary), 2 = xr (compat, issue 15). */
export { FORMATS };
const NF = FORMATS.length;
/**
 * The column of a frame sent to a recipient of `format` (an xr recipient's text PONG counts as
 * xr). Received frames: 0 text, 1 protobuf, 2 xr.
 */
export const formatSlot = (format: string, frame: unknown): number => format === "xr" ? 2 : typeof frame === "string" ? 0 : 1;

// Close codes are chosen by clients too (3000–4999); past this many distinct ones, "other".
const MAX_CLOSE_CODES = 64;

/** Live counters of one server instance. */
export class Metrics {
  readonly startedAt: number;
  connectionsTotal = 0;
  connectionsActive = 0;
  connectionErrors = 0;
  /** Collections run after a connect burst (COLLECT_AFTER_BURST; lib/burst.ts). */
  burstCollections = 0;
  /** Disconnections by close code (bounded; see MAX_CLOSE_CODES). */
  readonly closesByCode = new Map<string, number>();
  messagesReceived = 0;
  bytesReceived = 0;
  /** Frames handed to recipients (one broadcast to 99 peers counts 99). */
  messagesSent = 0;
  bytesSent = 0;
  /** Received / sent counts and bytes by kind × format: index = slot * FORMATS.length + format. */
  readonly receivedByKind = new Float64Array(KINDS.length * NF);
  readonly receivedBytesByKind = new Float64Array(KINDS.length * NF);
  readonly sentByKind = new Float64Array(KINDS.length * NF);
  readonly sentBytesByKind = new Float64Array(KINDS.length * NF);
  /** Error frames sent, by error code. */
  readonly errorsByCode = new Map<string, number>();
  /** Messages dropped by a rate limit, and connection attempts refused. */
  readonly rateLimited = { connection: 0, global: 0, connect: 0, closes: 0 };
  /** Reliable delivery ([delivery]): resends, resumes, coalesced position updates, closes. */
  readonly delivery = { retries: 0, resumes: 0, resume_misses: 0, coalesced: 0, slow_consumer_closes: 0, unresponsive_closes: 0, outbox_retries: 0, not_delivered: 0, rebases: 0 };
  /** Server fan-out time: frame received → last recipient handed its frame (ms). */
  readonly fanout = new LatencyHistogram();
  readonly fanoutHistory = new RollingLatency();
  /** Client round trip from protocol ping → pong (ms). */
  readonly roundTrip = new LatencyHistogram();
  /** Age of messages that carry a client timestamp, at arrival (ms; clock skew included). */
  readonly messageAge = new LatencyHistogram();
  /** Per-second rates of the four totals, measured when read. */
  readonly rates = new RateMeter(4);

  constructor(now: number) {
    this.startedAt = now;
  }

  /** One frame received: `slot` from {@link slotOf}, `format` 0 (text), 1 (protobuf) or 2 (xr). */
  received(slot: number, format: number, bytes: number): void {
    const i = slot * NF + format;
    this.receivedByKind[i]++;
    this.receivedBytesByKind[i] += bytes;
  }

  /** `n` copies of one frame of `bytes` handed to recipients. */
  sent(slot: number, format: number, n: number, bytes: number): void {
    const i = slot * NF + format;
    this.sentByKind[i] += n;
    this.sentBytesByKind[i] += n * bytes;
    this.messagesSent += n;
    this.bytesSent += n * bytes;
  }

  closed(code: number): void {
    let key = String(code);
    if (!this.closesByCode.has(key) && this.closesByCode.size >= MAX_CLOSE_CODES) key = "other";
    this.closesByCode.set(key, (this.closesByCode.get(key) ?? 0) + 1);
  }

  /** Ping → pong round trip of one client, in ms. */
  recordRoundTrip(ms: number): void {
    this.roundTrip.record(ms);
  }

  /** Fan-out time of one broadcast, in ms. */
  recordFanout(ms: number, now: number): void {
    this.fanout.record(ms);
    this.fanoutHistory.record(ms, now);
  }

  countError(code: string): void {
    this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
  }
}

/** The name of a counting slot (for labels). */
export const kindName = (slot: number): string => KINDS[slot] ?? TYPE_NAME[0];
