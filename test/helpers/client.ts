/** A raw WebSocket test client with an inbox: await frames in order, with timeouts. */

export type Received = string | Uint8Array;

export class TestClient {
  readonly inbox: Received[] = [];
  closeEvent?: { code: number; reason: string };
  #waiters: (() => void)[] = [];
  readonly opened: Promise<void>;
  readonly closedP: Promise<{ code: number; reason: string }>;

  constructor(readonly url: string, protocols?: string | string[], headers?: Record<string, string>) {
    // Bun's WebSocket accepts headers as an extra option.
    this.ws = new WebSocket(url, { protocols, headers } as never);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (e) => {
      this.inbox.push(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer));
      this.#wake();
    };
    this.opened = new Promise((res, rej) => {
      this.ws.onopen = () => res();
      this.ws.onerror = () => rej(new Error(`WebSocket error for ${url}`));
    });
    this.closedP = new Promise((res) => {
      this.ws.onclose = (e) => {
        this.closeEvent = { code: e.code, reason: e.reason };
        res(this.closeEvent);
        this.#wake();
      };
    });
    this.opened.catch(() => {});
  }
  readonly ws: WebSocket;

  #wake() {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Waits until `pred` holds over the inbox (re-checked on every frame). */
  async until(pred: (inbox: Received[]) => boolean, timeoutMs = 5000, what = "frames"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.inbox)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; inbox has ${this.inbox.length}: ${this.preview()}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.#waiters.push(() => (clearTimeout(t), res()));
      });
    }
  }

  /** Waits for `n` frames in total and returns them. */
  async frames(n: number, timeoutMs = 5000): Promise<Received[]> {
    await this.until((b) => b.length >= n, timeoutMs, `${n} frames`);
    return this.inbox.slice(0, n);
  }

  /** The first JSON frame (parsed) whose `type` is `type`. */
  async json(type: string, timeoutMs = 5000): Promise<any> {
    const find = () => this.inbox.find((f) => typeof f === "string" && f.includes(`"${type}"`) && JSON.parse(f).type === type);
    await this.until(() => find() !== undefined, timeoutMs, `a ${type} frame`);
    return JSON.parse(find() as string);
  }

  /** The SERVER_HELLO (always the first frame). */
  async hello(): Promise<any> {
    const [first] = await this.frames(1);
    return JSON.parse(first as string);
  }

  send(data: string | Uint8Array): void {
    this.ws.send(data as string | ArrayBufferView<ArrayBuffer>);
  }

  close(code = 1000, reason = ""): Promise<{ code: number; reason: string }> {
    this.ws.close(code, reason);
    return this.closedP;
  }

  preview(): string {
    return this.inbox.slice(-3).map((f) => (typeof f === "string" ? f.slice(0, 120) : `<${f.byteLength} bytes>`)).join(" | ");
  }
}

/** Opens a client and waits for it to be open and for its hello frame. */
export async function join(base: string, room: string, query = "", protocols?: string | string[]): Promise<TestClient> {
  const c = new TestClient(`${base}/ws/${room}${query ? `?${query}` : ""}`, protocols);
  await c.opened;
  await c.frames(1);
  return c;
}

/** Polls `fn` until it returns truthy or the timeout passes. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 5000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    await Bun.sleep(25);
  }
}
