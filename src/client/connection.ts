/**
 * One client's connection to a room: the socket, its format, reconnecting with backoff,
 * resuming reliable sessions, the send queue, and decoding what arrives into room state and
 * events. {@link GraphwizClient} adds the send methods on top.
 * @module
 */
import { reconnectAdvice } from "../errors.ts";
import { MessageType, type Envelope, type PayloadCase, type Payloads } from "../protocol/types.ts";
import { backoffDelay } from "./backoff.ts";
import { jsonCodec, loadCodec, type Codec } from "./codec.ts";
import { Emitter } from "./emitter.ts";
import { GraphwizError } from "./errors.ts";
import type { ClientEvents, ClientOptions, ConnectionState } from "./events.ts";
import { decodeJson, type HelloInfo, type ServerFrame } from "./json.ts";
import { RoomState } from "./room.ts";
import { findWebSocket, type WebSocketConstructor, type WebSocketLike } from "./websocket.ts";

const OPEN = 1;
const CHAT_TYPES = ["NORMAL", "WHISPER", "SHOUT"] as const;
const CODECS = ["OPUS", "PCMU", "PCMA"] as const;
/** What waits in the queue: a typed message (encoded when sent) or raw data. */
type Outgoing = { msg: Envelope } | { raw: string | Uint8Array };

/** The connection machinery of {@link GraphwizClient}. */
export class Connection extends Emitter<ClientEvents> {
  readonly options: ClientOptions;
  /** The room as this client knows it. */
  protected readonly room: RoomState;
  /** The latest SERVER_HELLO. */
  hello?: HelloInfo;
  /** Reliable mode: the session to resume, and the last sequence processed (of `epoch`). */
  sessionId?: string;
  epoch = 0;
  lastSeq = 0;
  #state: ConnectionState = "idle";
  #ws?: WebSocketLike;
  #Ctor?: WebSocketConstructor;
  #codec: Codec = jsonCodec;
  #closedByUser = false;
  #attempt = 0;
  #msgSeq = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #ackTimer?: ReturnType<typeof setTimeout>;
  #unacked = 0;
  #queue: Outgoing[] = [];
  /** Queue index of the latest position update per entity (latest-wins while waiting). */
  #queuedPose = new Map<string, number>();
  #connecting?: { promise: Promise<HelloInfo>; resolve(h: HelloInfo): void; reject(e: Error): void };

  constructor(options: ClientOptions) {
    super();
    this.options = { format: "json", reconnect: true, queueLimit: 1024, ...options };
    this.room = new RoomState({
      presence: (ev, msg) => this.emit("presence", ev, msg),
      entity: (ev, msg) => this.emit("entity", ev, msg),
      position: (ev, msg) => this.emit("position", ev, msg),
    });
  }

  /** Your client id: the one the server assigned, else the one you asked for. */
  get clientId(): string | undefined {
    return this.hello?.client_id ?? this.options.clientId;
  }
  /** `idle` → `connecting` → `open` (⇄ `reconnecting`) → `closed`. */
  get state(): ConnectionState {
    return this.#state;
  }
  /** The underlying socket (advanced use and tests). */
  get socket(): WebSocketLike | undefined {
    return this.#ws;
  }

  /**
   * Connects (loading the protobuf codec first if asked for) and resolves with the SERVER_HELLO.
   * Rejects with `CONNECT_FAILED` if the connection closes before its hello and will not be retried.
   */
  connect(): Promise<HelloInfo> {
    if (this.#state === "open" && this.hello) return Promise.resolve(this.hello);
    if (this.#connecting) return this.#connecting.promise;
    this.#closedByUser = false;
    let resolve!: (h: HelloInfo) => void, reject!: (e: Error) => void;
    const promise = new Promise<HelloInfo>((res, rej) => ((resolve = res), (reject = rej)));
    this.#connecting = { promise, resolve, reject };
    if (this.#state === "reconnecting") return promise; // the next hello resolves it
    this.#setState("connecting");
    Promise.all([loadCodec(this.options.format ?? "json"), findWebSocket(this.options.WebSocket)]).then(([codec, Ctor]) => {
      this.#codec = codec;
      this.#Ctor = Ctor;
      if (!this.#closedByUser) this.#open();
    }, (e: Error) => this.#finish(e));
    return promise;
  }

  /** Closes on purpose (code 1000): no reconnect follows, queued messages are dropped. */
  close(code = 1000, reason = ""): void {
    this.#closedByUser = true;
    clearTimeout(this.#timer);
    if (this.#ws) this.#ws.close(code, reason);
    else this.#finish(new GraphwizError("CLIENT_CLOSED", "The client was closed before it connected"));
  }

  #url(): string {
    const o = this.options;
    const q = new URLSearchParams({ ...o.query, format: o.format ?? "json" });
    if (o.userId) q.set("user_id", o.userId);
    if (this.clientId) q.set("client_id", this.clientId);
    if (o.displayName) q.set("display_name", o.displayName);
    if (o.token && !o.tokenInFirstMessage) q.set("token", o.token);
    if (o.reliable) {
      q.set("ack", "1");
      if (this.sessionId) {
        q.set("resume", this.sessionId);
        q.set("last_seq", String(this.lastSeq));
        q.set("epoch", String(this.epoch));
      }
    }
    return `${o.url.replace(/\/$/, "")}/ws/${encodeURIComponent(o.room)}?${q}`;
  }

  #open(): void {
    const ws = new this.#Ctor!(this.#url());
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.onmessage = (e: { data: unknown }) => this.#receive(e.data);
    ws.onclose = (e: { code: number; reason: string }) => this.#onClose(ws, e.code, e.reason);
    ws.onerror = () => {}; // a close event follows; `ws` on Node would throw without a listener
    const { token, tokenInFirstMessage, displayName } = this.options;
    if (token && tokenInFirstMessage) {
      ws.onopen = () => this.#write({ msg: this.#envelope(MessageType.CLIENT_HELLO, "client_hello", { auth_token: token, display_name: displayName ?? "" }) });
    }
  }

  #receive(data: unknown): void {
    let f: ServerFrame;
    if (typeof data === "string") f = decodeJson(data);
    else {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(0);
      try {
        f = this.#codec.decodeBinary ? { kind: "message", msg: this.#codec.decodeBinary(bytes) } : { kind: "raw", data: bytes };
      } catch {
        f = { kind: "raw", data: bytes };
      }
    }
    if (f.kind === "raw") this.emit("raw", f.data);
    else if (f.kind === "hello") this.#onHello(f.hello);
    else this.#onMessage(f.msg);
  }

  #onHello(hello: HelloInfo): void {
    this.hello = hello;
    if (hello.session_id) {
      // A fresh session starts at the room's current position; a resumed one keeps ours.
      if (!hello.resumed) {
        this.epoch = Number(hello.epoch ?? 0);
        this.lastSeq = Number(hello.last_seq ?? 0);
      }
      this.sessionId = hello.session_id;
    }
    this.#attempt = 0;
    this.room.reset(hello);
    // What was sent while not connected goes out first, in order.
    const queued = this.#queue;
    this.#queue = [];
    this.#queuedPose.clear();
    for (const item of queued) this.#write(item);
    this.#setState("open");
    this.emit("hello", hello);
    this.#connecting?.resolve(hello);
    this.#connecting = undefined;
  }

  #onMessage(msg: Envelope): void {
    if (msg.seq && !this.#fresh(msg)) return;
    this.emit("message", msg);
    switch (msg.payload) {
      case "chat_message": {
        const c = msg.chat_message!;
        const chat = { from_client_id: c.from_client_id ?? "", message: c.message ?? "", type: CHAT_TYPES[c.type ?? 0] ?? "NORMAL", to_client_id: c.to_client_id ?? "", timestamp: c.timestamp ?? 0, message_id: msg.message_id ?? "" };
        return this.emit("chat", chat, msg);
      }
      case "voice_data": {
        const v = msg.voice_data!;
        return this.emit("voice", { from_client_id: v.from_client_id ?? "", audio_data: v.audio_data ?? new Uint8Array(0), sequence_number: v.sequence_number ?? 0, codec: CODECS[v.codec ?? 0] ?? "OPUS" }, msg);
      }
      case "pong": {
        const p = msg.pong!;
        return this.emit("pong", { client_time: p.client_time ?? 0, server_time: p.server_time ?? 0, rtt_ms: Date.now() - (p.client_time ?? 0) }, msg);
      }
      case "error": {
        const e = msg.error!;
        if (e.ref_message_id) this.room.revert(e.ref_message_id);
        return this.emit("error", { code: e.code ?? "", message: e.message ?? "", ref_message_id: e.ref_message_id ?? "", retry_after_ms: e.retry_after_ms ?? 0, close_code: e.close_code ?? 0 }, msg);
      }
      default:
        this.room.apply(msg);
    }
  }

  /** Sequence bookkeeping of a reliable message: false for a duplicate (already seen). */
  #fresh(msg: Envelope): boolean {
    if (msg.epoch !== this.epoch) {
      this.epoch = msg.epoch ?? 0;
      this.lastSeq = 0;
    }
    if (msg.seq! <= this.lastSeq) return false;
    this.lastSeq = msg.seq!;
    if (this.options.reliable) this.#scheduleAck();
    return true;
  }

  #scheduleAck(): void {
    if (++this.#unacked >= 32) return this.#ack();
    this.#ackTimer ??= setTimeout(() => this.#ack(), 100);
  }

  #ack(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.#unacked = 0;
    if (this.#ws?.readyState === OPEN) this.#write({ msg: this.#envelope(MessageType.ACK, "ack", { seq: this.lastSeq }) });
  }

  #onClose(ws: WebSocketLike, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    const opt = this.options.reconnect;
    const advice = reconnectAdvice(code);
    const willReconnect = !!opt && !this.#closedByUser && advice !== "never";
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    if (code === 1000 || !willReconnect) this.sessionId = undefined; // a deliberate close ends the session
    this.emit("close", { code, reason, willReconnect });
    if (!willReconnect) {
      const error = this.#closedByUser
        ? new GraphwizError("CLIENT_CLOSED", "The client was closed before it connected")
        : new GraphwizError("CONNECT_FAILED", `Closed before the server's hello: ${code} ${reason}`.trim(), code);
      return this.#finish(error);
    }
    this.#setState("reconnecting");
    const delay = advice === "now" ? 0 : backoffDelay(this.#attempt++, typeof opt === "object" ? opt : {});
    this.#timer = setTimeout(() => this.#open(), delay);
  }

  /** The end of the line: state `closed`, the queue dropped, a pending `connect()` rejected. */
  #finish(error: Error): void {
    this.#queue = [];
    this.#queuedPose.clear();
    this.#setState("closed");
    this.#connecting?.reject(error);
    this.#connecting = undefined;
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.emit("state", state);
  }

  #envelope<K extends PayloadCase>(type: number, kind: K, payload: Payloads[K]): Envelope {
    const message_id = `${this.clientId ?? "c"}-${++this.#msgSeq}`;
    return { type, message_id, timestamp: Date.now(), payload: kind, [kind]: payload } as Envelope;
  }

  /** Writes to the socket, and applies a typed message to the local room state. */
  #write(item: Outgoing): void {
    const frame = "raw" in item ? item.raw : this.#codec.encode(item.msg);
    this.#ws!.send(frame);
    if ("msg" in item) this.room.applyLocal(item.msg);
  }

  /**
   * Sends a typed message now, or queues it until the connection is open (before `connect()`
   * resolves, and while reconnecting). Returns its message id (ERROR replies name it).
   * @throws {GraphwizError} `CLIENT_CLOSED` after `close()`, `QUEUE_FULL` past `queueLimit`.
   */
  send<K extends PayloadCase>(type: number, kind: K, payload: Payloads[K]): string {
    const msg = this.#envelope(type, kind, payload);
    this.#dispatch({ msg });
    return msg.message_id!;
  }

  /** Sends text or bytes as is (relayed to the room if not a typed message); queued like {@link send}. */
  sendRaw(data: string | Uint8Array): void {
    this.#dispatch({ raw: data });
  }

  #dispatch(item: Outgoing): void {
    if (this.#closedByUser || this.#state === "closed") throw new GraphwizError("CLIENT_CLOSED", "The client is closed; call connect() to open it again");
    if (this.#state === "open" && this.#ws?.readyState === OPEN) return this.#write(item);
    const pose = "msg" in item && item.msg.payload === "position_update" ? item.msg.position_update!.entity_id || "" : undefined;
    const at = pose === undefined ? undefined : this.#queuedPose.get(pose);
    if (at !== undefined) return void (this.#queue[at] = item);
    if (this.#queue.length >= this.options.queueLimit!) throw new GraphwizError("QUEUE_FULL", `Already ${this.#queue.length} messages waiting for the connection (queueLimit)`);
    if (pose !== undefined) this.#queuedPose.set(pose, this.#queue.length);
    this.#queue.push(item);
  }
}
