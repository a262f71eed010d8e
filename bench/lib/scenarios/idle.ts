/**
 * Scenario "idle": N idle connections; the server's RSS before and after gives memory per connection.
 * @module
 */
import { rssKiB } from "../proc.ts";
import type { LoadResult } from "../spec.ts";
import { sig } from "../stats.ts";
import type { Sink, WsConn } from "../wsclient.ts";
import { openAll } from "../wsopen.ts";
import { connectAll, connectFailures, type LoadRun, sleep } from "./common.ts";

export async function idle(run: LoadRun): Promise<LoadResult> {
  const spec = run.spec;
  const N = spec.conns ?? 10_000;
  const rooms = spec.rooms ?? 100;
  const pid = spec.serverPids[0];
  const sink: Sink = { onSeq() {} };
  // A few connections first, so one-off start-up allocations are not charged to the N.
  const base: WsConn[] = [];
  for (let i = 0; i < 20; i++) base.push(await run.conn(sink, spec.ports[0], "bench-idle-warm", `w${i}`));
  const conns: WsConn[] = [];
  for (let i = 0; i < N; i++) conns.push(await run.conn(sink, spec.ports[0], `bench-idle-${i % rooms}`, `i${i}`));
  run.conns = [...base, ...conns];
  if ((await openAll(base, 20)) > 0) return { ok: false, error: `connect failed: ${connectFailures(base).first}` };
  await sleep(spec.settleMs ?? 1000);
  const before = rssKiB(pid);
  const { connectMs, failure } = await connectAll(conns, spec.concurrency ?? 200);
  if (failure) return failure;
  await sleep(spec.settleMs ?? 1000);
  // RSS settles as the runtime collects garbage from the connect burst: take the last of a few.
  const samples: number[] = [];
  for (let i = 0; i < 4; i++) {
    samples.push(rssKiB(pid));
    await sleep(250);
  }
  const after = samples[samples.length - 1];
  const closed = run.conns.filter((c) => c.isClosed).length;
  return {
    ok: closed === 0,
    error: closed > 0 ? `${closed} connections closed by the server: ${run.conns.find((c) => c.error)?.error}` : undefined,
    conns: N,
    connect_ms: sig(connectMs, 3),
    rss_before_kib: before,
    rss_after_kib: after,
    rss_per_conn_kib: sig((after - before) / N, 3),
    server_rss_kib: after,
  };
}
