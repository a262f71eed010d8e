/**
 * A GraphWiz-XR-like test client, written from issue 15's description of that client's wire
 * protocol and from its `types.ts` field names — not from its code, and not from ours. It
 * connects as that client does (`/ws/{room}?room_id=…&user_id=…&client_id=<uuid>`, binary
 * frames as ArrayBuffers, CLIENT_HELLO as an xr frame right after open, pings as JSON text) and
 * reads every frame STRICTLY: anything the real client would warn about, fail to parse, or read
 * without checking and trip over is recorded in `problems` (tests assert it stays empty).
 *
 * xr frame: [u8 n][n bytes messageId UTF-8][u64 big-endian timestamp ms][u8 type][payload UTF-8 JSON]
 */

/** Message types of GraphWiz-XR's types.ts, plus the two graphwiz-ws adds that reach an xr client. */
export const XR = {
  CLIENT_HELLO: 1, SERVER_HELLO: 2, POSITION_UPDATE: 10, VOICE_DATA: 11, ENTITY_SPAWN: 20, ENTITY_UPDATE: 21,
  ENTITY_DESPAWN: 22, CHAT_MESSAGE: 30, EMOJI_REACTION: 31, OBJECT_GRAB: 32, OBJECT_RELEASE: 33,
  PRESENCE_JOIN: 40, PRESENCE_LEAVE: 41, PRESENCE_UPDATE: 42, ERROR: 50, MODERATION: 54,
} as const;
const KNOWN = new Set<number>(Object.values(XR));

export interface XrMessage {
  messageId: string;
  timestamp: number;
  type: number;
  payload: any;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Encodes one xr frame. */
export function xrFrame(type: number, payload: unknown, messageId: string = crypto.randomUUID(), timestamp = Date.now()): Uint8Array<ArrayBuffer> {
  const id = new TextEncoder().encode(messageId);
  if (id.length > 255) throw new Error("messageId longer than 255 bytes");
  const body = payload === undefined ? new Uint8Array(0) : new TextEncoder().encode(JSON.stringify(payload));
  const buf = new Uint8Array(1 + id.length + 8 + 1 + body.length);
  const view = new DataView(buf.buffer);
  buf[0] = id.length;
  buf.set(id, 1);
  view.setBigUint64(1 + id.length, BigInt(timestamp));
  buf[1 + id.length + 8] = type;
  buf.set(body, 1 + id.length + 9);
  return buf;
}

const isNum = (v: unknown) => typeof v === "number" && Number.isFinite(v);
const isVec = (v: any, w = false) => v && typeof v === "object" && isNum(v.x) && isNum(v.y) && isNum(v.z) && (!w || isNum(v.w));

/**
 * Parses one binary frame strictly by the layout; returns the message or a reason. Beyond the
 * layout it checks the fields GraphWiz-XR's client reads without checking.
 */
export function parseXrStrict(buf: ArrayBuffer, now = Date.now()): XrMessage | string {
  const b = new Uint8Array(buf);
  if (b.length < 10) return `frame of ${b.length} bytes is shorter than the 10-byte header`;
  const n = b[0];
  if (b.length < 1 + n + 9) return `frame of ${b.length} bytes cannot hold a ${n}-byte messageId and the header`;
  let messageId: string;
  try {
    messageId = strictUtf8.decode(b.subarray(1, 1 + n));
  } catch {
    return "messageId is not UTF-8";
  }
  const ts = new DataView(buf).getBigUint64(1 + n);
  if (ts <= 0n || ts > BigInt(Number.MAX_SAFE_INTEGER)) return `timestamp ${ts} is not a positive safe integer`;
  const timestamp = Number(ts);
  if (Math.abs(timestamp - now) > 3_600_000) return `timestamp ${timestamp} is not milliseconds near now`;
  const type = b[1 + n + 8];
  if (!KNOWN.has(type)) return `unknown message type ${type}`;
  let payload: any = {};
  const rest = b.subarray(1 + n + 9);
  if (rest.length > 0) {
    try {
      payload = JSON.parse(strictUtf8.decode(rest));
    } catch {
      return `type ${type}: payload is not UTF-8 JSON`;
    }
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return `type ${type}: payload is not a JSON object`;
  const bad = checkPayload(type, payload);
  return bad ? `type ${type}: ${bad}` : { messageId, timestamp, type, payload };
}

/** What GraphWiz-XR's handlers read unguarded (App.tsx, network/system.ts), by type. */
function checkPayload(type: number, p: any): string | undefined {
  switch (type) {
    case XR.POSITION_UPDATE:
      if (typeof p.entityId !== "string" || !isVec(p.position) || !isVec(p.rotation, true) || !isNum(p.timestamp)) return "needs entityId, position, rotation, timestamp";
      break;
    case XR.PRESENCE_JOIN:
    case XR.PRESENCE_LEAVE:
    case XR.PRESENCE_UPDATE:
      if (typeof p.clientId !== "string" || typeof p.data !== "object" || p.data === null || !isNum(p.eventType)) return "needs clientId, eventType and a data object";
      break;
    case XR.CHAT_MESSAGE:
      if (typeof p.fromClientId !== "string" || typeof p.message !== "string") return "needs fromClientId and message";
      break;
    case XR.EMOJI_REACTION:
      if (typeof p.reactionId !== "string" || typeof p.emoji !== "string" || !isVec(p.position)) return "needs reactionId, emoji, position";
      break;
    case XR.ENTITY_SPAWN:
      if (typeof p.entityId !== "string" || typeof p.components !== "object") return "needs entityId and components";
      break;
    case XR.ENTITY_UPDATE:
    case XR.ENTITY_DESPAWN:
      if (typeof p.entityId !== "string") return "needs entityId";
      break;
    case XR.OBJECT_GRAB:
    case XR.OBJECT_RELEASE:
      if (typeof p.entityId !== "string" || typeof p.clientId !== "string") return "needs entityId and clientId";
      break;
  }
  return undefined;
}

/** One GraphWiz-XR-like connection. */
export class XrClient {
  readonly ws: WebSocket;
  readonly messages: XrMessage[] = [];
  /** Text frames the client accepts (SERVER_HELLO, ping answers), parsed. */
  readonly texts: any[] = [];
  /** Everything the real client would warn about or fail on. Tests assert it stays empty. */
  readonly problems: string[] = [];
  clientId: string;
  readonly opened: Promise<void>;
  readonly hello: Promise<any>;
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: (() => void)[] = [];

  constructor(base: string, readonly room: string, readonly opts: { userId: string; displayName: string; clientId?: string; authToken?: string; sendHello?: boolean; path?: string }) {
    this.clientId = opts.clientId ?? crypto.randomUUID();
    const q = new URLSearchParams({ room_id: room, user_id: opts.userId, client_id: this.clientId });
    this.ws = new WebSocket(opts.path ?? `${base}/ws/${room}?${q}`);
    this.ws.binaryType = "arraybuffer";
    let helloResolve!: (h: any) => void;
    this.hello = new Promise((r) => (helloResolve = r));
    this.ws.onmessage = (e) => {
      if (typeof e.data === "string") {
        let parsed: any;
        try {
          parsed = JSON.parse(e.data);
        } catch {
          this.problems.push(`unexpected text (not JSON): ${e.data.slice(0, 80)}`);
        }
        if (parsed?.type === "SERVER_HELLO") {
          if (typeof parsed.client_id === "string" && parsed.client_id !== this.clientId) this.clientId = parsed.client_id; // adopted, as the real client does
          const st = parsed.initial_state;
          if (!st || !Array.isArray(st.entities) || !Array.isArray(st.players)) this.problems.push("SERVER_HELLO without initial_state.entities/players arrays");
          this.texts.push(parsed);
          helloResolve(parsed);
        } else if (parsed?.type === 255) this.texts.push(parsed);
        else if (parsed !== undefined) this.problems.push(`unexpected text message: ${e.data.slice(0, 120)}`);
      } else {
        const m = parseXrStrict(e.data as ArrayBuffer);
        if (typeof m === "string") this.problems.push(m);
        else this.messages.push(m);
      }
      this.#wake();
    };
    this.opened = new Promise((res, rej) => {
      this.ws.onopen = () => {
        if (opts.sendHello !== false) {
          this.send(XR.CLIENT_HELLO, { clientId: this.clientId, displayName: opts.displayName, authToken: opts.authToken ?? "", requestedRoom: room });
        }
        res();
      };
      this.ws.onerror = () => rej(new Error(`WebSocket error for ${room}`));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((res) => {
      this.ws.onclose = (e) => {
        res({ code: e.code, reason: e.reason });
        this.#wake();
      };
    });
  }

  #wake() {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Sends one xr frame; returns its messageId. */
  send(type: number, payload: unknown, messageId: string = crypto.randomUUID()): string {
    this.ws.send(xrFrame(type, payload, messageId));
    return messageId;
  }

  /** The keepalive GraphWiz-XR's client sends every 30 s (a JSON text frame). */
  ping(): void {
    this.ws.send(JSON.stringify({ messageId: `ping-${Date.now()}`, timestamp: Date.now(), type: 255, payload: null }));
  }

  async until<T>(find: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = find();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.messages.map((m) => m.type).join(",")}; problems: ${this.problems.join(" | ")}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => (clearTimeout(t), r()));
      });
    }
  }

  /** The first message of `type` (matching `pred`) received. */
  next(type: number, pred: (p: any) => boolean = () => true, timeoutMs?: number): Promise<XrMessage> {
    return this.until(() => this.messages.find((m) => m.type === type && pred(m.payload)), `xr type ${type}`, timeoutMs);
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close(1000, "Client disconnecting");
    return this.closed;
  }
}
