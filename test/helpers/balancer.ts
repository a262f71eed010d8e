/**
 * A TCP load balancer on 127.0.0.1 for cluster tests: each new connection goes to the next
 * backend in turn that accepts it (a dead one is skipped), the way a real balancer fails over.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export class Balancer {
  #server?: Server;
  #next = 0;
  port = 0;
  /** Backend port of every connection made, in order (for assertions). */
  readonly routed: number[] = [];

  private constructor(readonly ports: number[]) {}

  static async start(ports: number[]): Promise<Balancer> {
    const b = new Balancer(ports);
    b.#server = createServer((client) => b.#route(client, 0));
    await new Promise<void>((r) => b.#server!.listen(0, "127.0.0.1", r));
    b.port = (b.#server!.address() as { port: number }).port;
    return b;
  }

  #route(client: Socket, tried: number): void {
    client.pause();
    client.on("error", () => {});
    if (tried >= this.ports.length) return void client.destroy();
    const port = this.ports[this.#next++ % this.ports.length];
    const up = connect(port, "127.0.0.1");
    up.once("error", () => {
      up.destroy();
      this.#route(client, tried + 1);
    });
    up.once("connect", () => {
      this.routed.push(port);
      up.on("error", () => client.destroy());
      client.pipe(up);
      up.pipe(client);
      client.on("close", () => up.destroy());
      up.on("close", () => client.destroy());
      client.resume();
    });
  }

  stop(): void {
    this.#server?.close();
  }
}
