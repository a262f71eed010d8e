/**
 * Scenario "position": many clients spread over rooms, each sending position updates at a fixed
 * rate (open loop); every member of a room but the sender should receive each one.
 * @module
 */
import { patchSeq, positionTemplate } from "../pb.ts";
import { CpuWindow } from "../proc.ts";
import type { LoadResult } from "../spec.ts";
import { Histogram, sig } from "../stats.ts";
import type { Sink, WsConn } from "../wsclient.ts";
import { connectAll, type LoadRun, ms, serverSide, sleep } from "./common.ts";

export async function position(run: LoadRun): Promise<LoadResult> {
  const spec = run.spec;
  const C = spec.clients ?? 1000;
  const rooms = spec.rooms ?? 100;
  const hz = spec.hz ?? 10;
  const RING = 1 << 20;
  const M = RING - 1;
  const sendTime = new Float64Array(RING);
  const hist = new Histogram();
  let idxM0 = Number.MAX_SAFE_INTEGER;
  let idxM1 = Number.MAX_SAFE_INTEGER;
  let delivered = 0;
  const sink: Sink = {
    onSeq(_c, idx, now) {
      if (idx >= idxM0 && idx < idxM1) {
        delivered++;
        hist.record((now - sendTime[idx & M]) * 1000);
      }
    },
  };
  const conns: WsConn[] = [];
  for (let i = 0; i < C; i++) {
    const r = i % rooms;
    const c = await run.conn(sink, spec.ports[0], `bench-pos-${r}`, `p${i}`);
    c.group = r;
    conns.push(c);
  }
  run.conns = conns;
  const { connectMs, failure } = await connectAll(conns, spec.concurrency ?? 100);
  if (failure) return failure;
  const roomSize = new Array(rooms).fill(0);
  for (const c of conns) roomSize[c.group]++;
  await sleep(300);

  // Open loop: client i sends at phase i/C of each period; a 2 ms ticker sends whatever is due.
  const tpl = run.wire(positionTemplate(false));
  const frames = conns.map(() => tpl.bytes.slice());
  let idx = 0;
  let sends = 0;
  let expected = 0;
  let counting = false;
  const tStart = performance.now();
  const tick = () => {
    const due = Math.floor(((performance.now() - tStart) * C * hz) / 1000);
    const now = performance.now();
    while (sends < due) {
      const ci = sends++ % C;
      const c = conns[ci];
      if (c.isClosed) continue;
      const i = idx++;
      patchSeq(tpl.template, frames[ci], tpl.seqAt, i);
      sendTime[i & M] = now;
      if (counting) expected += roomSize[c.group] - 1;
      c.write(frames[ci]);
    }
  };
  const ticker = setInterval(tick, 2);
  await sleep(spec.warmupMs ?? 1000);
  idxM0 = idx;
  counting = true;
  const cpu = new CpuWindow([...spec.serverPids, process.pid]);
  const tm0 = performance.now();
  await sleep(spec.measureMs ?? 5000);
  tick();
  clearInterval(ticker);
  idxM1 = idx;
  counting = false;
  const wall = (performance.now() - tm0) / 1000;
  const cpuRead = cpu.read();
  const rss = serverSide(spec.serverPids, cpuRead);
  await sleep(spec.drainMs ?? 1000);
  const closed = conns.filter((c) => c.isClosed).length;
  return {
    ok: true,
    clients: C,
    connect_ms: sig(connectMs, 3),
    sent: idxM1 - idxM0,
    sent_per_s: sig((idxM1 - idxM0) / wall),
    expected,
    delivered,
    delivered_per_s: sig(delivered / wall),
    delivered_ratio: expected > 0 ? sig(delivered / expected, 6) : 0,
    p50_ms: ms(hist.quantile(0.5)),
    p99_ms: ms(hist.quantile(0.99)),
    p999_ms: ms(hist.quantile(0.999)),
    max_ms: ms(hist.max),
    server_errors: conns.reduce((a, c) => a + c.serverErrors, 0),
    closed_by_server: closed,
    ...rss,
    measure_s: sig(wall, 3),
    error: closed > 0 ? conns.find((c) => c.error)?.error : undefined,
  };
}
