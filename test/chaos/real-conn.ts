/**
 * The model's clients on real sockets: a {@link RealConn} is a WebSocket through its own TCP
 * proxy (so the test can cut it abruptly, RST both ways), and a {@link RealNode} opens them to
 * one running instance. Together they let the SDK-like {@link ModelClient} of the model test
 * drive real servers unchanged.
 * @module
 */
import type { Frame } from "../../src/lib/transport.ts";
import { CutProxy } from "../helpers/proxy.ts";
import type { ClientLink, Opener } from "../model/client.ts";
import type { SimIdentity } from "../model/sim-node.ts";

/** One WebSocket connection through its own cut-able proxy. */
export class RealConn implements ClientLink {
  readonly wire: Frame[] = [];
  closedByServer?: { code: number; reason: string };
  #cut = false;
  #ws?: WebSocket;
  #proxy?: CutProxy;
  /** Resolves when the socket closed (any reason). */
  readonly closed: Promise<void>;
  #closed!: () => void;

  constructor(readonly port: number, readonly path: string, readonly onFrame: () => void) {
    this.closed = new Promise((r) => (this.#closed = r));
    void this.#start();
  }

  async #start(): Promise<void> {
    try {
      this.#proxy = await CutProxy.start(this.port);
    } catch {
      this.closedByServer = { code: 1006, reason: "proxy failed" };
      this.onFrame();
      return this.#closed();
    }
    if (this.#cut) return this.#finish();
    const ws = new WebSocket(`ws://127.0.0.1:${this.#proxy.port}${this.path}`);
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.onmessage = (e) => {
      if (this.#cut) return;
      this.wire.push(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer));
      this.onFrame();
    };
    ws.onclose = (e) => {
      if (!this.#cut) this.closedByServer ??= { code: e.code, reason: e.reason };
      this.onFrame();
      this.#finish();
    };
    ws.onerror = () => {};
  }

  #finish(): void {
    this.#proxy?.stop();
    this.#closed();
  }

  get socket(): this {
    return this;
  }

  read(): Frame[] {
    return this.wire.splice(0, this.wire.length);
  }

  get serverOpen(): boolean {
    return !this.#cut && !this.closedByServer && this.#ws?.readyState === WebSocket.OPEN;
  }

  send(frame: Frame): void {
    if (this.serverOpen) this.#ws!.send(frame as string);
  }

  close(code = 1000): void {
    this.#cut = true;
    this.wire.length = 0;
    if (this.#ws && this.#ws.readyState <= WebSocket.OPEN) this.#ws.close(code);
    else this.#finish();
  }

  /** Cuts the TCP connection (RST both ways): in-flight frames are lost, both ends see 1006. */
  drop(_noticeNow: boolean): void {
    this.#cut = true;
    this.wire.length = 0;
    this.#proxy?.cut();
    this.#ws?.close();
    this.#finish();
  }
}

/** One running instance, as clients see it. */
export class RealNode implements Opener {
  readonly conns = new Set<RealConn>();
  constructor(readonly name: string, public port: number, readonly onFrame: () => void = () => {}) {}

  open(id: SimIdentity): RealConn {
    const q = new URLSearchParams({ client_id: id.clientId, format: id.format ?? "json" });
    if (id.userId) q.set("user_id", id.userId);
    if (id.displayName) q.set("display_name", id.displayName);
    if (id.reliable) q.set("ack", "1");
    if (id.resume) {
      q.set("resume", id.resume.sessionId);
      q.set("last_seq", String(id.resume.lastSeq));
      if (id.resume.epoch !== undefined) q.set("epoch", String(id.resume.epoch));
    }
    const c = new RealConn(this.port, `/ws/${encodeURIComponent(id.room)}?${q}`, this.onFrame);
    this.conns.add(c);
    void c.closed.then(() => this.conns.delete(c));
    return c;
  }

  /** The instance died: every connection to it is cut (its clients see 1006). */
  cutAll(): void {
    for (const c of this.conns) c.drop(true);
  }
}
