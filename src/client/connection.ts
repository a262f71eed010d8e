/**
 * One client's connection to a room: the socket, its format, reconnecting with backoff,
 * resuming reliable sessions, the send queue, and decoding what arrives into room state and
 * events. {@link GraphwizClient} adds the send methods on top.
 * @module
 */
import { reconnectAdvice } from "../errors.ts";
import { MessageType, type Envelope, type PayloadCase, type Payloads } from "../protocol/types.ts";
import { backoffDelay } from "./backoff.ts";
import { decodeFrame, jsonCodec, loadCodec, upgradeUrl, type Codec } from "./codec.ts";
import { Emitter } from "./emitter.ts";
import { GraphwizError } from "./errors.ts";
import type { AcceptedEvent, ClientEvents, ClientOptions, ConnectionState } from "./events.ts";
import type { HelloInfo } from "./json.ts";
import { acceptedEvent, chatEvent, moderationNotice, pongEvent, reactionEvent, serverError, voiceEvent } from "./messages.ts";
import { Outcomes } from "./outcomes.ts";
import { RoomState } from "./room.ts";
import { findWebSocket, type WebSocketConstructor, type WebSocketLike } from "./websocket.ts";

const OPEN = 1;
/** What the server puts in the room log and answers with ACCEPTED or an ERROR naming it (see docs/protocol.md). */
const LOGGED = new Set<PayloadCase>(["chat_message", "entity_spawn", "entity_update", "entity_despawn", "presence_event", "object_grab", "object_release"]);
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
  /** Reliable mode: the answer each logged send is waiting for. */
  readonly #outcomes = new Outcomes();
  #connecting?: { promise: Promise<HelloInfo>; resolve(h: HelloInfo): void; reject(e: Error): void };

  constructor(options: ClientOptions) {
    super();
    this.options = { format: "json", reconnect: true, queueLimit: 1024, ...options };
    this.room = new RoomState({
      presence: (ev, msg) => this.emit("presence", ev, msg),
      entity: (ev, msg) => this.emit("entity", ev, msg),
      position: (ev, msg) => this.emit("position", ev, msg),
      hold: (ev, msg) => this.emit("hold", ev, msg),
      host: (ev, msg) => this.emit("host", ev, msg),
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

  #open(): void {
    const resume = this.options.reliable && this.sessionId ? { session: this.sessionId, lastSeq: this.lastSeq, epoch: this.epoch } : undefined;
    const ws = new this.#Ctor!(upgradeUrl(this.options, this.clientId, resume));
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
    const f = decodeFrame(data, this.#codec);
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
      case "chat_message": return this.emit("chat", chatEvent(msg.chat_message!, msg.message_id), msg);
      case "voice_data": return this.emit("voice", voiceEvent(msg.voice_data!), msg);
      case "pong": return this.emit("pong", pongEvent(msg.pong!, Date.now()), msg);
      case "emoji_reaction": return this.emit("reaction", reactionEvent(msg.emoji_reaction!), msg);
      case "moderation": return this.emit("moderation", moderationNotice(msg.moderation!, this.clientId), msg);
      case "accepted": {
        const a = acceptedEvent(msg.accepted!);
        this.room.accepted(a.ref_message_id);
        this.#outcomes.accept(a);
        return this.emit("accepted", a, msg);
      }
      case "error": {
        const e = serverError(msg.error!);
        if (e.ref_message_id) this.room.revert(e.ref_message_id);
        this.emit("error", e, msg);
        if (e.ref_message_id) this.#outcomes.reject(e.ref_message_id, new GraphwizError("REJECTED", `${e.code}: ${e.message}`, undefined, e));
        return;
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
    if (this.#ws?.readyState === OPEN) this.#write({ msg: this.#envelope(MessageType.ACK, "ack", { seq: this.lastSeq, epoch: this.epoch }) });
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
    this.#outcomes.closed(false);
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
    this.#outcomes.closed(true);
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
    if ("msg" in item) {
      this.#outcomes.sent(item.msg.message_id!);
      this.room.applyLocal(item.msg);
    }
  }

  /**
   * Sends a typed message now, or queues it until the connection is open (before `connect()`
   * resolves, and while reconnecting). Returns its message id (ERROR replies name it).
   * @throws {GraphwizError} `CLIENT_CLOSED` after `close()`, `QUEUE_FULL` past `queueLimit`.
   */
  send<K extends PayloadCase>(type: number, kind: K, payload: Payloads[K]): string {
    const msg = this.#envelope(type, kind, payload);
    const written = this.#dispatch({ msg });
    if (this.options.reliable && LOGGED.has(kind)) this.#outcomes.track(msg.message_id!, written);
    return msg.message_id!;
  }

  /**
   * Reliable mode: the outcome of a send that goes through the room log (chat, entities,
   * presence, grab, release) — resolves with its `seq` once the server ACCEPTED it; rejects
   * with `REJECTED` (an ERROR named it: `serverError.code` is NOT_DELIVERED, CONFLICT, …),
   * `OUTCOME_UNKNOWN` (the connection closed before the answer), `NOT_SENT` (still queued
   * when the client closed for good) or `NO_OUTCOME` (nothing tracked for `messageId`).
   */
  outcome(messageId: string): Promise<AcceptedEvent> {
    return this.#outcomes.get(messageId);
  }

  /** Sends text or bytes as is (relayed to the room if not a typed message); queued like {@link send}. */
  sendRaw(data: string | Uint8Array): void {
    this.#dispatch({ raw: data });
  }

  /** Writes `item` now (true) or queues it (false). */
  #dispatch(item: Outgoing): boolean {
    if (this.#closedByUser || this.#state === "closed") throw new GraphwizError("CLIENT_CLOSED", "The client is closed; call connect() to open it again");
    if (this.#state === "open" && this.#ws?.readyState === OPEN) return this.#write(item), true;
    const pose = "msg" in item && item.msg.payload === "position_update" ? item.msg.position_update!.entity_id || "" : undefined;
    const at = pose === undefined ? undefined : this.#queuedPose.get(pose);
    if (at !== undefined) return (this.#queue[at] = item), false;
    if (this.#queue.length >= this.options.queueLimit!) throw new GraphwizError("QUEUE_FULL", `Already ${this.#queue.length} messages waiting for the connection (queueLimit)`);
    if (pose !== undefined) this.#queuedPose.set(pose, this.#queue.length);
    this.#queue.push(item);
    return false;
  }
}
