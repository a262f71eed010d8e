/**
 * Scenario "storm": N connections opened as fast as the server accepts them; connections per
 * second and handshake latency.
 * @module
 */
import { CpuWindow } from "../proc.ts";
import type { LoadResult } from "../spec.ts";
import { Histogram, sig } from "../stats.ts";
import type { Sink, WsConn } from "../wsclient.ts";
import { openAll } from "../wsopen.ts";
import { connectFailures, type LoadRun, ms, serverSide } from "./common.ts";

export async function storm(run: LoadRun): Promise<LoadResult> {
  const spec = run.spec;
  const N = spec.conns ?? 5000;
  const rooms = spec.rooms ?? 50;
  const sink: Sink = { onSeq() {} };
  const conns: WsConn[] = [];
  for (let i = 0; i < N; i++) conns.push(await run.conn(sink, spec.ports[0], `bench-storm-${i % rooms}`, `t${i}`));
  run.conns = conns;
  const cpu = new CpuWindow([...spec.serverPids, process.pid]);
  const t0 = performance.now();
  const failed = await openAll(conns, spec.concurrency ?? 256);
  const accept = (performance.now() - t0) / 1000;
  const cpuRead = cpu.read();
  const hs = new Histogram();
  for (const c of conns) if (c.tReady) hs.record((c.tReady - c.tStart) * 1000);
  const f = failed > 0 ? connectFailures(conns) : undefined;
  return {
    ok: failed === 0,
    error: f ? `${f.n} of ${N} failed: ${f.first}` : undefined,
    connect_failures: failed,
    conns: N,
    accept_s: sig(accept, 3),
    conn_per_s: sig((N - failed) / accept),
    handshake_p50_ms: ms(hs.quantile(0.5)),
    handshake_p99_ms: ms(hs.quantile(0.99)),
    ...serverSide(spec.serverPids, cpuRead),
  };
}
