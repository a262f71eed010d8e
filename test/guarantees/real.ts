/**
 * Real processes for the guarantee tests that need them (findings 11–13): a private Redis
 * (or a replicated Redis Cluster) that the test can stall, kill and restart, instances of the
 * server per runtime, and SDK-like clients (the model's {@link ModelClient}) on real sockets.
 * Everything started here is stopped by `close()`.
 * @module
 */
import { ModelClient } from "../model/client.ts";
import { startServer, type Runtime, type RunningServer } from "../helpers/server.ts";
import { RealNode } from "../chaos/real-conn.ts";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Servers on one backend, clients on them, a ticker reading every client. */
export class RealCluster {
  readonly servers: RunningServer[] = [];
  readonly nodes: RealNode[] = [];
  readonly clients: ModelClient[] = [];
  #ticker = setInterval(() => this.read(), 20);

  constructor(readonly room: string) {}

  static async start(room: string, runtimes: Runtime[], env: Record<string, string>): Promise<RealCluster> {
    const c = new RealCluster(room);
    const started = await Promise.allSettled(runtimes.map((rt) => startServer(rt, { NODE_ID: rt, RATE_LIMIT_MESSAGES: "100000", ...env }, { timeoutMs: 30_000 })));
    for (const s of started) if (s.status === "fulfilled") c.servers.push(s.value);
    const failed = started.find((s) => s.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) {
      await c.close();
      throw failed.reason;
    }
    for (const s of c.servers) c.nodes.push(new RealNode(s.runtime, s.port, () => c.read()));
    return c;
  }

  read(): void {
    for (const c of this.clients) c.read();
  }

  /** A client joined on instance `i`; resolves once its hello arrived. */
  async client(id: string, i: number, reliable = true, format: "json" | "protobuf" = "json"): Promise<ModelClient> {
    const c = new ModelClient(id, this.room, reliable, format, Date.now);
    this.clients.push(c);
    c.connect(this.nodes[i]!);
    await this.until(() => c.state === "connected", `${id}'s hello`);
    return c;
  }

  async until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  /** `/ready` of every server is 200. */
  async ready(timeoutMs = 20_000): Promise<void> {
    const ok = async () => (await Promise.all(this.servers.map(async (s) => (await fetch(`${s.http}/ready`).catch(() => undefined))?.status))).every((x) => x === 200);
    const deadline = Date.now() + timeoutMs;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error("servers not ready again in time");
      await sleep(100);
    }
  }

  async stats(i: number): Promise<string[]> {
    const s = (await (await fetch(`${this.servers[i]!.http}/ws/${this.room}/stats`)).json()) as { connections: { client_id: string }[] };
    return s.connections.map((c) => c.client_id).sort();
  }

  /** The players a fresh plain joiner on instance `i` sees (itself excluded). */
  async players(i: number): Promise<string[]> {
    const p = new ModelClient(`probe-${i}-${Date.now()}`, this.room, false, "json", Date.now);
    p.connect(this.nodes[i]!);
    await this.until(() => (p.read(), p.hellos.length > 0), "a probe's hello");
    const ids = (p.hellos[0]!.initial_state?.players ?? []).map((x) => String(x.client_id)).filter((id) => !id.startsWith("probe-")).sort(); // earlier probes may still be on their way out
    p.leave();
    return ids;
  }

  async close(): Promise<void> {
    clearInterval(this.#ticker);
    for (const c of this.clients) if (c.conn) c.leave();
    await Promise.all(this.servers.map((s) => s.stop("SIGKILL")));
  }
}
