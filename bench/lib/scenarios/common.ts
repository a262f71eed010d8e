/**
 * What the load generator's scenarios share: the run (its spec and every connection it opened),
 * clients in the server's dialect, messages as the bytes written to the socket, connect failures,
 * and the server-side figures (CPU, RSS) of a measurement window.
 * @module
 */
import { sign } from "hono/jwt";
import type { Template } from "../pb.ts";
import { CpuWindow, machine, rssKiB } from "../proc.ts";
import type { LoadResult, LoadSpec } from "../spec.ts";
import { sig } from "../stats.ts";
import { WsConn, type Sink } from "../wsclient.ts";
import { SIO_EVENT_HEADER } from "../wsdialect.ts";
import { headerLen, writeHeader } from "../wsframe.ts";
import { openAll } from "../wsopen.ts";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Microseconds as milliseconds, to 4 significant digits. */
export const ms = (us: number) => sig(us / 1000, 4);

/**
 * One message as the bytes written to the socket (header + payload); Socket.IO adds its text
 * event header before the binary attachment. `seqAt` is the sequence's offset in `bytes`.
 */
export interface WireMessage {
  bytes: Uint8Array;
  seqAt: number;
  template: Template;
}

/** One load-generator run of one scenario. */
export class LoadRun {
  /** Every connection the scenario opened: the load generator closes them when it finishes. */
  conns: WsConn[] = [];
  #tokenSeq = 0;

  constructor(readonly spec: LoadSpec) {}

  async #token(): Promise<string> {
    if (!this.spec.jwtSecret) return "";
    const i = this.#tokenSeq++;
    return sign({ sub: `bench-user-${i}`, exp: Math.floor(Date.now() / 1000) + 3600 }, this.spec.jwtSecret, "HS256");
  }

  /** A client of `room` on `port`; the path and handshake depend on the server's dialect. */
  async conn(sink: Sink, port: number, room: string, clientId: string): Promise<WsConn> {
    const spec = this.spec;
    const tok = await this.#token();
    const q = tok ? `&token=${tok}` : "";
    switch (spec.dialect) {
      case "gw": {
        const c = new WsConn(sink, "gw", port, `/ws/${room}?client_id=${clientId}&format=protobuf${spec.ack ? "&ack=1" : ""}${q}`);
        if (spec.ack) c.ackEvery = 32; // as the SDK: an ACK every 32 sequenced messages
        return c;
      }
      case "raw":
        return new WsConn(sink, "raw", port, `/ws/${room}${tok ? `?token=${tok}` : ""}`);
      case "sio":
        return new WsConn(sink, "sio", port, `/socket.io/?EIO=4&transport=websocket&room=${room}`, tok);
    }
  }

  /** The message of template `t` as written to the socket in this run's dialect. */
  wire(t: Template): WireMessage {
    const pre = this.spec.dialect === "sio" ? new TextEncoder().encode(SIO_EVENT_HEADER) : undefined;
    const preLen = pre ? headerLen(pre.length) + pre.length : 0;
    const bytes = new Uint8Array(preLen + headerLen(t.bytes.length) + t.bytes.length);
    if (pre) bytes.set(pre, writeHeader(bytes, 0, 1, pre.length));
    const h = writeHeader(bytes, preLen, 2, t.bytes.length);
    bytes.set(t.bytes, preLen + h);
    return { bytes, seqAt: preLen + h, template: t };
  }
}

/** A scenario: drives the run's connections and returns its figures. */
export type Scenario = (run: LoadRun) => Promise<LoadResult>;

/** How many of `conns` never became ready, and the first error among them. */
export function connectFailures(conns: WsConn[]): { n: number; first?: string } {
  const failed = conns.filter((c) => c.tReady === 0);
  return { n: failed.length, first: failed.find((c) => c.error)?.error };
}

/**
 * Opens `conns` with at most `concurrency` handshakes outstanding and times it. `failure` is the
 * scenario's result when any of them did not connect.
 */
export async function connectAll(conns: WsConn[], concurrency: number): Promise<{ connectMs: number; failure?: LoadResult }> {
  const t0 = performance.now();
  const failed = await openAll(conns, concurrency);
  const connectMs = performance.now() - t0;
  if (failed === 0) return { connectMs };
  const f = connectFailures(conns);
  return { connectMs, failure: { ok: false, error: `connect failed: ${f.first}`, connect_failures: f.n } };
}

/**
 * Server CPU % (of one core, summed over instances) and RSS; the load generator's own CPU %;
 * and "foreign" CPU: what the rest of the machine (other users, the runner) burnt meanwhile.
 */
export function serverSide(pids: number[], cpu?: ReturnType<CpuWindow["read"]>): Partial<LoadResult> {
  const rss = pids.map(rssKiB).reduce((a, b) => a + b, 0);
  if (!cpu) return { server_rss_kib: rss };
  const server = cpu.cpuPct.slice(0, pids.length).reduce((a, b) => a + b, 0);
  const own = cpu.cpuPct[pids.length];
  const cores = machine().cores; // not navigator.hardwareConcurrency: that counts this process's affinity (1 when pinned)
  return {
    server_cpu_pct: sig(server, 3),
    server_sys_pct: sig(cpu.sysPct.slice(0, pids.length).reduce((a, b) => a + b, 0), 3),
    server_rss_kib: rss,
    loadgen_cpu_pct: sig(own, 3),
    loadgen_sys_pct: sig(cpu.sysPct[pids.length], 3),
    foreign_cpu_pct: sig(Math.max(0, (cpu.machineBusyPct * cores) - server - own), 3),
  };
}
