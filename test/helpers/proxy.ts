/** A TCP proxy on 127.0.0.1 that can cut every connection through it (an abrupt network drop). */
import { connect, createServer, type Server, type Socket } from "node:net";

export class CutProxy {
  readonly #pairs = new Set<[Socket, Socket]>();
  #server?: Server;
  port = 0;

  private constructor(readonly targetPort: number) {}

  static async start(targetPort: number): Promise<CutProxy> {
    const p = new CutProxy(targetPort);
    p.#server = createServer((client) => {
      const upstream = connect(targetPort, "127.0.0.1");
      const pair: [Socket, Socket] = [client, upstream];
      p.#pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const done = () => p.#pairs.delete(pair);
      for (const s of pair) {
        s.on("error", () => {});
        s.on("close", () => (pair[0].destroy(), pair[1].destroy(), done()));
      }
    });
    await new Promise<void>((r) => p.#server!.listen(0, "127.0.0.1", r));
    p.port = (p.#server!.address() as { port: number }).port;
    return p;
  }

  /** Resets every connection through the proxy at once, both ways (RST, no close frames). */
  cut(): void {
    for (const [a, b] of this.#pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.#pairs.clear();
  }

  get connections(): number {
    return this.#pairs.size;
  }

  stop(): void {
    this.cut();
    this.#server?.close();
  }
}
