/**
 * A simulated client that behaves like the SDK (src/client/index.ts) in reliable mode — de-dup
 * on `seq` (per epoch), a cumulative ACK of the highest seq seen every 100 ms, resume with
 * `resume=<session_id>&last_seq=<n>&epoch=<e>` — and records everything it receives for the
 * oracle. It talks to the server only through a {@link SimConn} (the adapter).
 * @module
 */
import { decodeServerFrame, type HelloInfo } from "../../src/client/decode.ts";
import { toJsonText } from "../../src/protocol/codec.ts";
import { encodeBinary } from "../../src/protocol/proto.ts";
import { ChatType, MessageType, type Envelope, type PayloadCase, type Payloads } from "../../src/protocol/types.ts";
import { keyOf, parseAccept, type Arrival, type ClientLink, type ClientState, type EntityOp, type Life, type Opener } from "./client-link.ts";

export { keyOf, parseAccept, type Arrival, type ClientLink, type ClientState, type EntityOp, type Life, type Opener } from "./client-link.ts";
/** How often an acknowledging client sends its cumulative ACK (the SDK batches every 100 ms). */
export const ACK_EVERY_MS = 100;

/** A simulated SDK client. */
export class ModelClient {
  conn?: ClientLink;
  /** The instance of the latest connection. */
  lastNode?: Opener;
  state: ClientState = "idle";
  sessionId?: string;
  epoch = 0;
  lastSeq = 0;
  #acked = 0;
  #lastAckAt = 0;
  #msgSeq = 0;
  #entitySeq = 0;
  /** Slow reader: reads only every `slowEveryMs`. */
  slow = false;
  #lastReadAt = 0;
  readonly lives: Life[] = [];
  /** When the connection was lost (for the resume window). */
  droppedAt = 0;
  /** Message ids of this client's messages the server refused (ERROR with ref_message_id), with the code. */
  readonly refused = new Map<string, string>();
  /** ACCEPTs this client got, by the message id they name (see {@link parseAccept}). */
  readonly accepts = new Map<string, { seq: number; epoch: number; at: number }>();
  /** Every ERROR this client got. */
  readonly errors: { code: string; ref: string; at: number }[] = [];
  /** Reliable messages this client sent after its hello on a live connection: id → what. */
  readonly sent = new Map<string, { at: number; kind: string; key: string; conn: ClientLink }>();
  /** Message ids of every entity op this client ever sent. */
  readonly entityOpsEver = new Set<string>();
  /** Each entity op ever sent: its entity, and whether it was the spawn. */
  readonly opEntity = new Map<string, { entity: string; spawn: boolean }>();
  /** Entity ops of the current life. */
  entityOps: EntityOp[] = [];
  /** Entities this client believes it owns (spawned, not despawned). */
  readonly owned = new Set<string>();
  /** Hellos with their initial state (for convergence probes). */
  readonly hellos: HelloInfo[] = [];
  /** Close codes the server sent. */
  /** Closes the server made; `joined`: the connection had its hello (else the attempt never got in). */
  readonly serverCloses: { code: number; at: number; joined: boolean }[] = [];

  /** Whether a JSON ACCEPTED's seq counts as seen, as in the SDK (switch off to tell its effect apart). */
  static acceptedFeedsDedup = process.env.MODEL_ACCEPTED_DEDUP !== "0";

  constructor(
    readonly id: string,
    readonly room: string,
    readonly reliable: boolean,
    readonly format: "json" | "protobuf",
    readonly now: () => number,
  ) {}

  get life(): Life | undefined {
    return this.lives.at(-1);
  }

  /** Every message this client passed on to its application (all lives), oldest first. */
  processed(): Arrival[] {
    return this.lives.flatMap((l) => l.processed);
  }

  /** Texts of the chats it passed on (sequenced ones, de-duplicated like the SDK, then the unsequenced). */
  chats(): string[] {
    return [...this.processed(), ...this.unsequenced].filter((a) => a.type === MessageType.CHAT_MESSAGE).map((a) => a.text ?? "");
  }

  /** Client ids of the PRESENCE_LEAVEs it got (in and outside the log). */
  leaves(): string[] {
    return [...this.processed(), ...this.unsequenced].filter((a) => a.type === MessageType.PRESENCE_LEAVE).map((a) => a.about);
  }

  /** The connection being opened starts afresh (no session to resume): until its hello, the client has no presence. */
  connectingFresh = false;

  /** Opens a connection: fresh, or resuming the session when the client has one. */
  connect(node: Opener): ClientLink {
    this.lastNode = node;
    const resume = this.reliable && this.sessionId ? { sessionId: this.sessionId, lastSeq: this.lastSeq, epoch: this.epoch } : undefined;
    this.state = "connecting";
    this.connectingFresh = resume === undefined;
    const link = (this.conn = node.open({ room: this.room, clientId: this.id, userId: `u-${this.id}`, format: this.format, reliable: this.reliable, resume, displayName: `name-${this.id}` }));
    this.life?.raw.push([]);
    this.#pendingAsk = resume?.lastSeq ?? 0;
    this.read(true); // the server may have closed it already
    return link;
  }
  #pendingAsk = 0;

  /**
   * Entities of an ended session whose leave may never have reached the log: it was handled by
   * an instance in an outage that then died before it could append it (see the runner's kill).
   * To the cluster that session simply lost its instance, so they may stay or go.
   */
  readonly lostLeaves: string[] = [];
  /** The last deliberate leave, while its fate is open (its instance, when the log could take it again, its entities). */
  leaveUnsure?: { node: Opener; until: number; entities: string[] };

  /** A deliberate close (1000): the session ends. */
  leave(): void {
    if (!this.conn) return;
    // Its entity ops still unanswered wait in the same outbox before the leave: lost with it too.
    const open = this.entityOps.filter((op) => !this.accepts.has(op.id) && !this.refused.has(op.id)).map((op) => op.entity);
    this.leaveUnsure = this.lastNode ? { node: this.lastNode, until: 0, entities: [...new Set([...this.expectedEntities().keys(), ...open])] } : undefined;
    this.conn.close(1000);
    this.conn = undefined;
    this.state = "idle";
    if (this.life) this.life.ended = "deliberate";
    this.sessionId = undefined;
    this.owned.clear();
    this.entityOps = [];
  }

  /** The TCP connection breaks; the server notices now or later (`notice` is then called by the runner). */
  drop(noticeNow: boolean): ClientLink | undefined {
    const c = this.conn;
    if (!c) return undefined;
    c.drop(noticeNow);
    this.conn = undefined;
    this.state = this.reliable ? "dropped" : "idle";
    this.droppedAt = this.now();
    if (!this.reliable) this.owned.clear(), (this.entityOps = []);
    return c;
  }

  /** Reads what is on the wire (a slow reader only every `slowEveryMs`), then ACKs when due. */
  read(force = false, slowEveryMs = 1000): number {
    const c = this.conn;
    if (!c) return 0;
    const now = this.now();
    if (this.slow && !force && now - this.#lastReadAt < slowEveryMs) return 0;
    this.#lastReadAt = now;
    const frames = c.socket.read();
    for (const f of frames) this.#receive(f);
    if (c.socket.closedByServer && c.socket.wire.length === 0 && this.conn === c) {
      this.serverCloses.push({ code: c.socket.closedByServer.code, at: now, joined: this.state === "connected" });
      this.conn = undefined;
      this.state = this.reliable ? "dropped" : "idle";
      this.droppedAt = now;
      if (!this.reliable) this.owned.clear(), (this.entityOps = []);
      return frames.length;
    }
    if (this.reliable && this.state === "connected" && this.lastSeq !== this.#acked && now - this.#lastAckAt >= ACK_EVERY_MS) {
      this.#acked = this.lastSeq;
      this.#lastAckAt = now;
      this.#send(MessageType.ACK, "ack", { seq: this.lastSeq });
    }
    return frames.length;
  }

  #receive(frame: string | Uint8Array): void {
    const f = decodeServerFrame(frame);
    if (f.kind === "raw") {
      const acc = parseAccept(frame);
      if (acc) this.accepts.set(acc.ref, { seq: acc.seq, epoch: acc.epoch, at: this.now() });
      return;
    }
    if (f.kind === "hello") return this.#hello(f.hello);
    const msg = f.msg;
    if (msg.type === MessageType.ERROR && msg.error) {
      const ref = msg.error.ref_message_id ?? "";
      this.errors.push({ code: msg.error.code ?? "", ref, at: this.now() });
      if (ref) this.refused.set(ref, msg.error.code ?? "");
    }
    if (msg.type === MessageType.ACCEPTED) {
      // The outcome of one of its own messages. The SDK passes a JSON ACCEPTED (its `seq` and
      // `epoch` sit where an entry's do) through its de-duplication like any sequenced message:
      // so does this client — an ACCEPTED that overtakes an earlier entry makes that entry look
      // like a duplicate, which the oracle then reports as lost.
      const seq = Number(msg.accepted?.seq || msg.seq || 0), epoch = Number(msg.accepted?.epoch || msg.epoch || 0);
      this.accepts.set(msg.accepted?.ref_message_id ?? "", { seq, epoch, at: this.now() });
      if (msg.seq && ModelClient.acceptedFeedsDedup) {
        if ((msg.epoch ?? 0) !== this.epoch) (this.epoch = msg.epoch ?? 0), (this.lastSeq = 0);
        if (msg.seq > this.lastSeq) this.lastSeq = msg.seq;
      }
      return;
    }
    if (!msg.seq) return this.#unsequenced(msg);
    const a: Arrival = { epoch: msg.epoch ?? 0, seq: msg.seq, id: msg.message_id ?? "", type: msg.type ?? 0, about: aboutOf(msg), at: this.now(), text: msg.chat_message?.message, key: keyOf(msg) };
    const life = this.life;
    life?.raw.at(-1)?.push(a);
    // The SDK's #fresh: a new epoch restarts the count; a seq not above the last is a duplicate.
    if (a.epoch !== this.epoch) {
      this.epoch = a.epoch;
      this.lastSeq = 0;
    }
    if (a.seq <= this.lastSeq) return;
    this.lastSeq = a.seq;
    life?.processed.push(a);
  }

  /** Messages without a seq (delivered outside the room log): recorded for the "unlogged" check. */
  readonly unsequenced: Arrival[] = [];
  #unsequenced(msg: Envelope): void {
    if (msg.type === MessageType.POSITION_UPDATE || msg.type === MessageType.VOICE_DATA || msg.type === MessageType.PONG) return;
    this.unsequenced.push({ epoch: 0, seq: 0, id: msg.message_id ?? "", type: msg.type ?? 0, about: aboutOf(msg), at: this.now(), text: msg.chat_message?.message, key: keyOf(msg) });
  }

  #hello(h: HelloInfo): void {
    this.hellos.push(h);
    this.state = "connected";
    const now = this.now();
    if (!this.reliable) {
      // A plain client: each connection is its own life.
      this.lives.push({ key: `plain-${h.connection_id}`, reliable: false, startEpoch: Number(h.epoch ?? 0), startSeq: Number(h.last_seq ?? 0), processed: [], raw: [[]], resumes: [], startedAt: now });
      this.epoch = 0;
      this.lastSeq = 0;
      return;
    }
    const sid = h.session_id ?? "";
    const life = this.life;
    const continues = life && life.key === sid && !life.ended;
    if (!h.resumed) {
      this.epoch = Number(h.epoch ?? 0);
      this.lastSeq = Number(h.last_seq ?? 0);
    }
    if (continues) {
      life.resumes.push({ resumed: h.resumed === true, at: now, epoch: Number(h.epoch ?? 0), lastSeq: Number(h.last_seq ?? 0), askedSeq: this.#pendingAsk });
    } else {
      if (life && !life.ended) life.ended = "expired";
      this.owned.clear();
      this.entityOps = [];
      this.lives.push({ key: sid, reliable: true, startEpoch: this.epoch, startSeq: this.lastSeq, processed: [], raw: [[]], resumes: [], startedAt: now });
    }
    this.sessionId = sid;
    this.#acked = this.lastSeq;
  }

  #send<K extends PayloadCase>(type: number, kind: K, payload: Payloads[K], reliable = false): string {
    const message_id = `${this.id}-${++this.#msgSeq}`;
    const msg = { type, message_id, timestamp: this.now(), payload: kind, [kind]: payload } as Envelope;
    if (reliable && this.state === "connected" && this.conn?.serverOpen) this.sent.set(message_id, { at: this.now(), kind, key: keyOf(msg), conn: this.conn });
    this.conn?.send(this.format === "protobuf" ? encodeBinary(msg) : toJsonText(msg));
    return message_id;
  }

  /** A chat to the room, or a whisper to `to`. */
  chat(to?: string, text = `chat ${this.id} ${this.#msgSeq + 1}`): string | undefined {
    if (this.state !== "connected") return undefined;
    const body = to ? { message: text, type: ChatType.WHISPER, to_client_id: to } : { message: text };
    return this.#send(MessageType.CHAT_MESSAGE, "chat_message", body, true);
  }

  /** A position update (unreliable); `entity` empty = the avatar. */
  move(x: number, entity = ""): void {
    if (this.state !== "connected") return;
    this.#send(MessageType.POSITION_UPDATE, "position_update", { entity_id: entity, position: { x, y: 1, z: 2 } });
  }

  /** spawn (0), update (1) or despawn (2) of an entity this client owns. */
  entity(op: number, pick: number): void {
    if (this.state !== "connected") return;
    const mine = [...this.owned];
    if (op === 0 || mine.length === 0) {
      const e = `e-${this.id}-${++this.#entitySeq}`;
      const id = this.#send(MessageType.ENTITY_SPAWN, "entity_spawn", { entity_id: e, template_id: "box", components: { v: "0" } }, true);
      this.owned.add(e);
      this.entityOps.push({ id, entity: e, kind: "spawn", value: "0" });
      this.entityOpsEver.add(id);
      this.opEntity.set(id, { entity: e, spawn: true });
      return;
    }
    const e = mine[pick % mine.length]!;
    if (op === 1) {
      const value = String(this.#msgSeq + 1);
      const id = this.#send(MessageType.ENTITY_UPDATE, "entity_update", { entity_id: e, components: { v: new TextEncoder().encode(value) } }, true);
      this.entityOps.push({ id, entity: e, kind: "update", value });
      this.entityOpsEver.add(id);
      this.opEntity.set(id, { entity: e, spawn: false });
    } else {
      const id = this.#send(MessageType.ENTITY_DESPAWN, "entity_despawn", { entity_id: e }, true);
      this.owned.delete(e);
      this.entityOps.push({ id, entity: e, kind: "despawn" });
      this.entityOpsEver.add(id);
      this.opEntity.set(id, { entity: e, spawn: false });
    }
  }

  /**
   * Entities with an op whose outcome this client could not learn: neither ACCEPTED nor refused,
   * and the connection it went out on is gone (it may or may not have reached the log).
   */
  /** Whether the spawn of `entity` is known to have reached the room (ACCEPTED). */
  spawnAccepted(entity: string): boolean {
    for (const [id, o] of this.opEntity) if (o.spawn && o.entity === entity && this.accepts.has(id)) return true;
    return false;
  }

  uncertainEntities(): string[] {
    const open = this.entityOps.filter((op) => !this.accepts.has(op.id) && !this.refused.has(op.id) && this.sent.get(op.id)?.conn !== this.conn).map((op) => op.entity);
    return [...open, ...this.lostLeaves];
  }

  /**
   * The entities this client's session should have in the room now: its spawns not despawned,
   * with the last update's value (ops the server refused with an ERROR do not count, except a
   * NOT_FOUND, which means the server lost an entity the owner never despawned).
   */
  expectedEntities(): Map<string, string> {
    const out = new Map<string, string>();
    const life = this.life;
    if (!life || life.ended || this.state === "idle") return out;
    for (const op of this.entityOps) {
      const code = this.refused.get(op.id);
      if (code && code !== "NOT_FOUND") continue;
      if (op.kind === "spawn") out.set(op.entity, op.value!);
      else if (op.kind === "update" && out.has(op.entity)) out.set(op.entity, op.value!);
      else if (op.kind === "despawn") out.delete(op.entity);
    }
    return out;
  }
}

/** What a message is about: a presence event's subject, a chat's sender, a spawn's owner, an updated or despawned entity. */
function aboutOf(msg: Envelope): string {
  return msg.presence_event?.client_id ?? msg.chat_message?.from_client_id ?? msg.entity_spawn?.owner_id ?? msg.entity_update?.entity_id ?? msg.entity_despawn?.entity_id ?? "";
}
