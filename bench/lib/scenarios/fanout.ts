/**
 * Scenario "fanout": one sender, N receivers in one room (on the last port: for the cluster, the
 * receivers sit on the other instance). The sender keeps a window of messages in flight; latency
 * is measured per receiver from each message's send time, looked up by its sequence number.
 * @module
 */
import { chatTemplate, patchSeq, positionTemplate, SEQ_MAX_INDEX } from "../pb.ts";
import { CpuWindow } from "../proc.ts";
import type { LoadResult } from "../spec.ts";
import { Histogram, sig } from "../stats.ts";
import type { Sink, WsConn } from "../wsclient.ts";
import { openAll } from "../wsopen.ts";
import { connectFailures, type LoadRun, ms, serverSide, sleep } from "./common.ts";

export async function fanout(run: LoadRun): Promise<LoadResult> {
  const spec = run.spec;
  const R = spec.receivers ?? 100;
  const WINDOW = spec.window ?? 128;
  const chatEvery = spec.chatEvery ?? 0;
  const RING = 1 << 16;
  const M = RING - 1;
  const sendTime = new Float64Array(RING);
  const cnt = new Uint16Array(RING);
  const hist = new Histogram();
  let sentIdx = 0;
  let doneIdx = 0;
  let measuring = false;
  let delivered = 0;
  let lost = 0;
  let sentInWindow = 0;
  let needPump = false;
  let lastProgress = performance.now();
  const pos = run.wire(positionTemplate(true));
  const chat = run.wire(chatTemplate(50));
  const frameMax = Math.max(pos.bytes.length, chat.bytes.length);
  const batch = new Uint8Array(frameMax * WINDOW);
  const minBatch = spec.minBatch ?? Math.max(1, WINDOW >> 3);

  // Flow control. "all": a message leaves the window once every receiver has it (or skipped it:
  // receivers get messages in order, so a higher sequence means the lower one was dropped).
  // "first": once the first receiver has it — the sender then refills while the load generator
  // is still reading the other receivers, so server and load generator work in parallel.
  const flowFirst = (spec.flow ?? "first") === "first";
  let firstAck = 0;
  let sender!: WsConn;
  const sink: Sink = {
    onSeq(c, idx, now) {
      if (c.group !== 1) return;
      const last = c.lastIdx;
      if (idx > last) {
        if (measuring && idx > last + 1 && last >= 0) lost += idx - last - 1;
        if (flowFirst) {
          if (idx >= firstAck) {
            firstAck = idx + 1;
            needPump = true;
          }
        } else {
          for (let k = Math.max(last + 1, doneIdx); k < idx; k++) cnt[k & M]++;
          if (idx >= doneIdx) cnt[idx & M]++;
          needPump = true;
        }
        c.lastIdx = idx;
      }
      if (measuring) {
        delivered++;
        hist.record((now - sendTime[idx & M]) * 1000);
      }
    },
    afterRead() {
      if (!needPump) return;
      needPump = false;
      const before = doneIdx;
      if (flowFirst) doneIdx = Math.max(doneIdx, firstAck);
      else while (doneIdx < sentIdx && cnt[doneIdx & M] >= R) cnt[doneIdx++ & M] = 0;
      if (doneIdx !== before) {
        lastProgress = performance.now();
        pump(false);
      }
    },
    onDrain(c) {
      if (c === sender) pump(false);
    },
  };

  function pump(force: boolean): void {
    if (stopped || sender.backlogged || sender.isClosed) return;
    const free = WINDOW - (sentIdx - doneIdx);
    if (free <= 0 || (!force && free < minBatch && sentIdx !== doneIdx)) return;
    let off = 0;
    const now = performance.now();
    for (let i = 0; i < free; i++) {
      const idx = sentIdx++;
      const w = chatEvery > 0 && idx % chatEvery === chatEvery - 1 ? chat : pos;
      batch.set(w.bytes, off);
      patchSeq(w.template, batch, off + w.seqAt, idx);
      off += w.bytes.length;
      sendTime[idx & M] = now;
      cnt[idx & M] = 0;
      if (measuring) sentInWindow++;
    }
    sender.write(batch, 0, off);
  }

  let stopped = false;
  const rxPort = spec.ports[spec.ports.length - 1];
  const room = "bench-fanout";
  const receivers: WsConn[] = [];
  for (let i = 0; i < R; i++) {
    const c = await run.conn(sink, rxPort, room, `r${i}`);
    c.group = 1;
    receivers.push(c);
  }
  sender = await run.conn(sink, spec.ports[0], room, "s0");
  run.conns = [...receivers, sender];
  const t0 = performance.now();
  const failedRx = await openAll(receivers, 64);
  const failedTx = await openAll([sender], 1);
  const connectMs = performance.now() - t0;
  if (failedRx + failedTx > 0) {
    const f = connectFailures(run.conns);
    return { ok: false, error: `connect failed: ${f.first}`, connect_failures: f.n };
  }
  await sleep(200); // presence chatter settles; cluster subscriptions propagate

  const stall = setInterval(() => {
    // Messages lost by every receiver (or a server that delivers nothing) would stall the window.
    if (sentIdx > doneIdx && performance.now() - lastProgress > 500) {
      doneIdx = firstAck = sentIdx;
      lastProgress = performance.now();
      pump(true);
    }
  }, 100);
  pump(true);
  await sleep(spec.warmupMs ?? 1000);
  measuring = true;
  const cpu = new CpuWindow([...spec.serverPids, process.pid]);
  const tm0 = performance.now();
  await sleep(spec.measureMs ?? 3000);
  measuring = false;
  const wall = (performance.now() - tm0) / 1000;
  const cpuRead = cpu.read();
  stopped = true;
  clearInterval(stall);
  const closed = run.conns.filter((c) => c.isClosed).length;
  if (sentIdx > SEQ_MAX_INDEX) return { ok: false, error: "sequence overflow" };
  return {
    ok: true,
    connect_ms: sig(connectMs, 3),
    sent: sentInWindow,
    sent_per_s: sig(sentInWindow / wall),
    delivered,
    delivered_per_s: sig(delivered / wall),
    // Robust to a shared machine: when other processes take the server's core, msg/s drops
    // but msg per server CPU-second much less.
    delivered_per_cpu_s: sig(delivered / wall / (cpuRead.cpuPct.slice(0, spec.serverPids.length).reduce((a, b) => a + b, 0) / 100)),
    lost,
    p50_ms: ms(hist.quantile(0.5)),
    p99_ms: ms(hist.quantile(0.99)),
    p999_ms: ms(hist.quantile(0.999)),
    max_ms: ms(hist.max),
    server_errors: run.conns.reduce((a, c) => a + c.serverErrors, 0),
    closed_by_server: closed,
    ...serverSide(spec.serverPids, cpuRead),
    measure_s: sig(wall, 3),
    error: closed > 0 ? run.conns.find((c) => c.error)?.error : undefined,
  };
}
