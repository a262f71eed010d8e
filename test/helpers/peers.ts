/**
 * Clients of the three wire formats behind one interface, for the xr conformance tests: an xr
 * client (GraphWiz-XR-like, test/helpers/xr-client.ts), a JSON and a protobuf client (raw
 * sockets; JSON parsed with JSON.parse, protobuf with the schema). Each received message can be
 * read by its snake_case field path whatever the format, so one check serves all three.
 */
import { toBase64 } from "../../src/protocol/json.ts";
import { decodeBinary, encodeBinary } from "../../src/protocol/proto.ts";
import { toJsonText } from "../../src/protocol/codec.ts";
import { MessageType, PAYLOAD_OF_TYPE, TYPE_NAME, type Envelope } from "../../src/protocol/types.ts";
import { TestClient } from "./client.ts";
import { XrClient } from "./xr-client.ts";

export type PeerFormat = "xr" | "json" | "protobuf";

/** A received message, readable by snake_case path in any format. */
export interface Got {
  type: number;
  messageId: string;
  timestamp: number;
  /** The payload field at `path` (`"position.x"`), as the format carries it. */
  get(path: string): any;
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const dig = (o: any, path: string, key: (s: string) => string) => path.split(".").reduce((v, k) => (v == null ? v : v[key(k)]), o);

/** Bytes as an array of numbers, from base64 (JSON, xr) or a Uint8Array (protobuf). */
export const bytesOf = (v: unknown): number[] => (typeof v === "string" ? [...Buffer.from(v, "base64")] : [...((v as Uint8Array) ?? [])]);
/** Text of component bytes: the xr string itself, else UTF-8 of the bytes. */
export const textOf = (v: unknown, format: PeerFormat): string => (format === "xr" ? (v as string) : Buffer.from(bytesOf(v)).toString("utf8"));

/** One connected client of any format. */
export interface Peer {
  readonly format: PeerFormat;
  readonly clientId: string;
  /** Every typed message received (hello excluded). */
  received(): Got[];
  /** Waits for a message of `type` whose payload passes `pred`. */
  next(type: number, pred?: (g: Got) => boolean, timeoutMs?: number): Promise<Got>;
  /** Sends a message given in the in-memory (snake_case) form; xr peers send `xr` instead when given. */
  send(type: number, payload: Record<string, unknown>, xr?: Record<string, unknown>): void;
  /** The hello (JSON text, parsed). */
  hello: Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<unknown>;
  /** What a strict reader would complain about (xr only; empty for the others). */
  problems(): string[];
}

/** An xr peer. */
export function xrPeer(client: XrClient): Peer {
  const got = (): Got[] => client.messages.map((m) => ({ type: m.type, messageId: m.messageId, timestamp: m.timestamp, get: (p) => dig(m.payload, p, camel) }));
  return {
    format: "xr",
    get clientId() {
      return client.clientId;
    },
    received: got,
    next: async (type, pred = () => true, timeoutMs) => client.until(() => got().find((g) => g.type === type && pred(g)), `xr type ${type}`, timeoutMs),
    send: (type, payload, xr) => void client.send(type, xr ?? camelize(payload)),
    hello: client.hello,
    closed: client.closed,
    close: () => client.close(),
    problems: () => client.problems,
  };
}

/** camelCase keys, bytes as base64: how an xr client writes a payload. */
function camelize(v: unknown): unknown {
  if (v instanceof Uint8Array) return toBase64(v);
  if (Array.isArray(v)) return v.map(camelize);
  if (typeof v !== "object" || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), camelize(x)]));
}

/** A JSON or protobuf peer on a raw socket (`?format=` chooses). */
export async function rawPeer(base: string, room: string, format: "json" | "protobuf", clientId: string, query = ""): Promise<Peer> {
  const c = new TestClient(`${base}/ws/${room}?client_id=${encodeURIComponent(clientId)}&format=${format}${query}`);
  await c.opened;
  const decode = (f: string | Uint8Array): Got | undefined => {
    if (format === "protobuf" && typeof f !== "string") {
      const m = decodeBinary(f);
      if (m.type === MessageType.SERVER_HELLO) return undefined;
      return { type: m.type!, messageId: m.message_id ?? "", timestamp: m.timestamp ?? 0, get: (p) => dig(m[m.payload!], p, (k) => k) };
    }
    if (typeof f !== "string") return undefined;
    const o = JSON.parse(f);
    const type = typeof o.type === "string" ? MessageType[o.type as keyof typeof MessageType] : undefined;
    if (type === undefined || type === MessageType.SERVER_HELLO) return undefined;
    const flat = type === MessageType.ERROR || type === MessageType.PONG;
    return { type, messageId: o.message_id, timestamp: o.timestamp, get: (p) => dig(flat ? o : o.payload, p, (k) => k) };
  };
  const got = () => c.inbox.flatMap((f) => decode(f) ?? []);
  return {
    format,
    clientId,
    received: got,
    async next(type, pred = () => true, timeoutMs = 5000) {
      let hit: Got | undefined;
      await c.until(() => (hit = got().find((g) => g.type === type && pred(g))) !== undefined, timeoutMs, `${format} type ${TYPE_NAME[type]}`);
      return hit!;
    },
    send(type, payload) {
      const msg = { type, payload: PAYLOAD_OF_TYPE[type], [PAYLOAD_OF_TYPE[type]!]: payload } as Envelope;
      c.send(format === "json" ? toJsonText(msg) : encodeBinary(msg));
    },
    hello: c.hello(),
    closed: c.closedP,
    close: () => c.close(),
    problems: () => [],
  };
}

/** POSTs JSON as GraphWiz-XR's ModerationClient does; the answer's status, JSON body and headers. */
export async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${base}${path}`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as any, headers: r.headers };
}
