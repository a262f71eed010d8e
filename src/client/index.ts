/**
 * graphwiz-ws client SDK for browsers, Bun, Deno and Node ≥ 22 (anything with a global
 * `WebSocket`). Connects to a room, speaks JSON or protobuf, keeps the room's world state from
 * SERVER_HELLO and events, and reconnects with backoff and jitter unless closed on purpose or
 * told not to (close codes 4400–4499).
 * @module
 */
import { reconnectAdvice } from "../errors.ts";
import { toJsonText } from "../protocol/codec.ts";
import { encodeBinary } from "../protocol/proto.ts";
import {
  ChatType, MessageType, type ChatMessage, type EntitySpawn, type Envelope, type ErrorPayload, type Payloads,
  type PayloadCase, type PositionUpdate, type PresenceData, type PresenceEvent, type Quaternion, type Vector3,
} from "../protocol/types.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { decodeServerFrame, type HelloInfo } from "./decode.ts";
import { Emitter } from "./emitter.ts";

export type { HelloInfo } from "./decode.ts";
export * from "../protocol/types.ts";

/** Options of {@link GraphwizClient}. */
export interface ClientOptions {
  /** Server base URL, e.g. `ws://localhost:8083`. */
  url: string;
  room: string;
  clientId?: string;
  userId?: string;
  displayName?: string;
  /** A JWT, sent as `?token=` (or in the first message, see `tokenInFirstMessage`). */
  token?: string;
  /** Send the token as the first message (CLIENT_HELLO.auth_token) instead of in the URL. */
  tokenInFirstMessage?: boolean;
  /** Frames this client receives. @default "json" */
  format?: "json" | "protobuf";
  /** Reconnect after unexpected closes. @default true */
  reconnect?: boolean | BackoffOptions;
  /**
   * Acknowledged delivery (`?ack=1`): reliable messages carry a `seq`, the SDK acknowledges them
   * (batched: every 100 ms or 32 messages), drops duplicates, and on reconnect resumes the
   * session so nothing is lost. @default false
   */
  reliable?: boolean;
  /** Extra query parameters. */
  query?: Record<string, string>;
  /** A WebSocket constructor, if not the global one. */
  WebSocket?: typeof WebSocket;
}

/** Events the client emits. */
export interface ClientEvents {
  hello: (hello: HelloInfo) => void;
  /** Every typed message from the server. */
  message: (msg: Envelope) => void;
  chat: (chat: ChatMessage, msg: Envelope) => void;
  position: (update: PositionUpdate, msg: Envelope) => void;
  presence: (event: PresenceEvent, msg: Envelope) => void;
  error: (error: ErrorPayload, msg: Envelope) => void;
  /** Text the server relayed without a known type. */
  raw: (data: string | Uint8Array) => void;
  close: (info: { code: number; reason: string; willReconnect: boolean }) => void;
}

/** A connection to one room. */
export class GraphwizClient extends Emitter<ClientEvents> {
  readonly options: ClientOptions;
  /** Players present, by client id (from the hello and presence events). */
  readonly players = new Map<string, Record<string, unknown>>();
  /** Entities in the room, by id. */
  readonly entities = new Map<string, Record<string, unknown>>();
  hello?: HelloInfo;
  #ws?: WebSocket;
  #closedByUser = false;
  #attempt = 0;
  #msgSeq = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #ackTimer?: ReturnType<typeof setTimeout>;
  #unacked = 0;
  /** Reliable state: the session to resume and the last sequence seen (of `epoch`). */
  sessionId?: string;
  epoch = 0;
  lastSeq = 0;

  constructor(options: ClientOptions) {
    super();
    this.options = { format: "json", reconnect: true, ...options };
  }

  /** The client id the server assigned (after the first hello). */
  get clientId(): string | undefined {
    return this.hello?.client_id ?? this.options.clientId;
  }

  /** Connects and resolves with the SERVER_HELLO (rejects if closed before it). */
  connect(): Promise<HelloInfo> {
    this.#closedByUser = false;
    return new Promise((resolve, reject) => {
      const off = this.on("hello", (h) => (off(), offClose(), resolve(h)));
      const offClose = this.on("close", (c) => {
        if (!c.willReconnect) (off(), offClose(), reject(new Error(`Closed before hello: ${c.code} ${c.reason}`)));
      });
      this.#open();
    });
  }

  #url(): string {
    const o = this.options;
    const q = new URLSearchParams({ ...o.query, format: o.format! });
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
    const Ctor = this.options.WebSocket ?? globalThis.WebSocket;
    const ws = new Ctor(this.#url());
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.onmessage = (e) => this.#receive(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer));
    ws.onclose = (e) => this.#onClose(e.code, e.reason);
    if (this.options.token && this.options.tokenInFirstMessage) {
      ws.onopen = () => this.send(MessageType.CLIENT_HELLO, "client_hello", { auth_token: this.options.token, display_name: this.options.displayName ?? "" });
    }
  }

  #receive(data: string | Uint8Array): void {
    const f = decodeServerFrame(data);
    if (f.kind === "raw") return this.emit("raw", f.data);
    if (f.kind === "hello") {
      this.hello = f.hello;
      if (f.hello.session_id) {
        // A fresh session starts at the room's current position; a resumed one keeps ours.
        if (!f.hello.resumed) {
          this.epoch = Number(f.hello.epoch ?? 0);
          this.lastSeq = Number(f.hello.last_seq ?? 0);
        }
        this.sessionId = f.hello.session_id;
      }
      this.#attempt = 0;
      this.players.clear();
      this.entities.clear();
      for (const p of f.hello.initial_state?.players ?? []) this.players.set(p.client_id as string, p);
      for (const e of f.hello.initial_state?.entities ?? []) this.entities.set(e.id as string, e);
      return this.emit("hello", f.hello);
    }
    this.#apply(f.msg);
  }

  #apply(msg: Envelope): void {
    if (msg.seq && !this.#fresh(msg)) return;
    this.emit("message", msg);
    switch (msg.payload) {
      case "chat_message": return this.emit("chat", msg.chat_message!, msg);
      case "position_update": {
        const p = msg.position_update!;
        const target = this.players.get(p.entity_id!) ?? this.entities.get(p.entity_id!);
        if (target) Object.assign(target, { position: p.position, rotation: p.rotation });
        return this.emit("position", p, msg);
      }
      case "presence_event": {
        const ev = msg.presence_event!;
        if (msg.type === MessageType.PRESENCE_LEAVE) this.players.delete(ev.client_id!);
        else this.players.set(ev.client_id!, { ...this.players.get(ev.client_id!), client_id: ev.client_id, ...ev.data });
        return this.emit("presence", ev, msg);
      }
      case "entity_spawn": {
        const s = msg.entity_spawn!;
        this.entities.set(s.entity_id!, { id: s.entity_id, template_id: s.template_id, owner_id: s.owner_id, components: s.components ?? {} });
        return;
      }
      case "entity_despawn": return void this.entities.delete(msg.entity_despawn!.entity_id!);
      case "error": return this.emit("error", msg.error!, msg);
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
    if (this.#ws?.readyState === 1) this.send(MessageType.ACK, "ack", { seq: this.lastSeq });
  }

  #onClose(code: number, reason: string): void {
    const opt = this.options.reconnect;
    const willReconnect = !!opt && !this.#closedByUser && reconnectAdvice(code) !== "never";
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    if (code === 1000 || !willReconnect) this.sessionId = undefined; // a deliberate close ends the session
    this.emit("close", { code, reason, willReconnect });
    if (!willReconnect) return;
    const delay = reconnectAdvice(code) === "now" ? 0 : backoffDelay(this.#attempt++, typeof opt === "object" ? opt : {});
    this.#timer = setTimeout(() => this.#open(), delay);
  }

  /** Sends a typed message (message id and format handled here); returns its message id. */
  send<K extends PayloadCase>(type: number, kind: K, payload: Payloads[K]): string {
    const message_id = `${this.clientId ?? "c"}-${++this.#msgSeq}`;
    const msg = { type, message_id, timestamp: Date.now(), payload: kind, [kind]: payload } as Envelope;
    const frame = this.options.format === "protobuf" ? encodeBinary(msg) : toJsonText(msg);
    this.#ws?.send(frame as string);
    return message_id;
  }

  /** Sends text or bytes as is (relayed to the room if not a typed message). */
  sendRaw(data: string | Uint8Array): void {
    this.#ws?.send(data as string);
  }

  sendChat(message: string, opts: { type?: number; to?: string } = {}): string {
    return this.send(MessageType.CHAT_MESSAGE, "chat_message", { message, type: opts.type ?? ChatType.NORMAL, to_client_id: opts.to ?? "" });
  }
  sendPosition(position: Vector3, rotation?: Quaternion, entityId = "", sequence = 0): string {
    return this.send(MessageType.POSITION_UPDATE, "position_update", { entity_id: entityId, position, rotation, sequence_number: sequence });
  }
  spawnEntity(spawn: EntitySpawn): string {
    return this.send(MessageType.ENTITY_SPAWN, "entity_spawn", spawn);
  }
  updateEntity(entityId: string, components: Record<string, Uint8Array | string>): string {
    const bytes: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(components)) bytes[k] = typeof v === "string" ? new TextEncoder().encode(v) : v;
    return this.send(MessageType.ENTITY_UPDATE, "entity_update", { entity_id: entityId, components: bytes });
  }
  despawnEntity(entityId: string): string {
    return this.send(MessageType.ENTITY_DESPAWN, "entity_despawn", { entity_id: entityId });
  }
  updatePresence(data: PresenceData): string {
    return this.send(MessageType.PRESENCE_UPDATE, "presence_event", { event_type: 2, data });
  }
  sendVoice(audio: Uint8Array, sequence = 0, codec = 0): string {
    return this.send(MessageType.VOICE_DATA, "voice_data", { audio_data: audio, sequence_number: sequence, codec });
  }
  /** Replaces the connection's token before it expires (same user); later reconnects use it too. */
  refreshToken(token: string): string {
    this.options.token = token;
    return this.send(MessageType.REFRESH, "refresh", { token });
  }
  ping(): string {
    return this.send(MessageType.PING, "ping", { client_time: Date.now() });
  }

  /** Closes on purpose (code 1000): no reconnect follows. */
  close(code = 1000, reason = ""): void {
    this.#closedByUser = true;
    clearTimeout(this.#timer);
    this.#ws?.close(code, reason);
  }

  /** The underlying socket (for tests and advanced use). */
  get socket(): WebSocket | undefined {
    return this.#ws;
  }
}
