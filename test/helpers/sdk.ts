/** SDK clients for conformance tests: connect, record everything, wait for conditions. */
import { GraphwizClient, type ClientOptions } from "../../src/client/index.ts";
import type { Envelope } from "../../src/protocol/types.ts";

export class Recorder {
  readonly messages: Envelope[] = [];
  readonly raws: (string | Uint8Array)[] = [];
  constructor(readonly client: GraphwizClient) {
    client.on("message", (m) => this.messages.push(m));
    client.on("raw", (d) => this.raws.push(d));
  }
  ofType(type: number): Envelope[] {
    return this.messages.filter((m) => m.type === type);
  }
  async waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (have ${this.messages.length} messages)`);
      await Bun.sleep(5);
    }
  }
  /** Waits until `n` messages of `type` arrived; returns them. */
  async nOf(type: number, n: number, timeoutMs = 5000): Promise<Envelope[]> {
    await this.waitFor(() => this.ofType(type).length >= n, `${n} messages of type ${type}`, timeoutMs);
    return this.ofType(type);
  }
}

/** Connects an SDK client (reconnect off unless asked) and records what it receives. */
export async function sdk(base: string, room: string, opts: Partial<ClientOptions> = {}): Promise<Recorder> {
  const client = new GraphwizClient({ url: base, room, reconnect: false, ...opts });
  const rec = new Recorder(client);
  await client.connect();
  return rec;
}
