/**
 * The load generator: one Bun process (pinned by the runner to its own core) that opens raw-TCP
 * WebSocket clients against one server (or two, for the cluster), drives one scenario, and
 * prints one JSON line with its figures. Usage: `bun bench/loadgen.ts '<LoadSpec JSON>'`.
 *
 * Latency: every message carries a sequence number; the send time of each sequence is kept in
 * a ring indexed by it, and a receiver's latency is `now − sendTime[seq]` (same process, same
 * clock). Only messages received inside the measurement window count.
 * @module
 */
import { sign } from "hono/jwt";
import { chatTemplate, patchSeq, positionTemplate, SEQ_MAX_INDEX, type Template } from "./lib/pb.ts";
import { CpuWindow, machine, rssKiB } from "./lib/proc.ts";
import type { LoadResult, LoadSpec } from "./lib/spec.ts";
import { Histogram, sig } from "./lib/stats.ts";
import { headerLen, openAll, SIO_EVENT_HEADER, writeHeader, WsConn, type Sink } from "./lib/wsclient.ts";

const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (us: number) => sig(us / 1000, 4);

const deadline = setTimeout(() => {
  finish({ ok: false, error: `load generator deadline (${spec.deadlineMs} ms) passed` });
}, spec.deadlineMs ?? 120_000);

let allConns: WsConn[] = [];

function finish(r: LoadResult): never {
  clearTimeout(deadline);
  process.stdout.write(`${JSON.stringify(r)}\n`);
  for (const c of allConns) c.terminate();
  process.exit(r.ok ? 0 : 1);
}

// ---- connection helpers -----------------------------------------------------------------

let tokenSeq = 0;
async function token(): Promise<string> {
  if (!spec.jwtSecret) return "";
  const i = tokenSeq++;
  return sign({ sub: `bench-user-${i}`, exp: Math.floor(Date.now() / 1000) + 3600 }, spec.jwtSecret, "HS256");
}

/** A client of `room` on `port`; the path and handshake depend on the server's dialect. */
async function makeConn(sink: Sink, port: number, room: string, clientId: string): Promise<WsConn> {
  const tok = await token();
  const q = tok ? `&token=${tok}` : "";
  switch (spec.dialect) {
    case "gw":
      return new WsConn(sink, "gw", port, `/ws/${room}?client_id=${clientId}&format=protobuf${spec.ack ? "&ack=1" : ""}${q}`);
    case "raw":
      return new WsConn(sink, "raw", port, `/ws/${room}${tok ? `?token=${tok}` : ""}`);
    case "sio":
      return new WsConn(sink, "sio", port, `/socket.io/?EIO=4&transport=websocket&room=${room}`, tok);
  }
}

/**
 * One message as the bytes written to the socket (header + payload); Socket.IO adds its text
 * event header before the binary attachment. `seqAt` is the sequence's offset in `bytes`.
 */
interface WireMessage {
  bytes: Uint8Array;
  seqAt: number;
  template: Template;
}
function wire(t: Template): WireMessage {
  const pre = spec.dialect === "sio" ? new TextEncoder().encode(SIO_EVENT_HEADER) : undefined;
  const preLen = pre ? headerLen(pre.length) + pre.length : 0;
  const bytes = new Uint8Array(preLen + headerLen(t.bytes.length) + t.bytes.length);
  if (pre) bytes.set(pre, writeHeader(bytes, 0, 1, pre.length));
  const h = writeHeader(bytes, preLen, 2, t.bytes.length);
  bytes.set(t.bytes, preLen + h);
  return { bytes, seqAt: preLen + h, template: t };
}

function connectFailures(conns: WsConn[]): { n: number; first?: string } {
  const failed = conns.filter((c) => c.tReady === 0);
  return { n: failed.length, first: failed.find((c) => c.error)?.error };
}

/**
 * Server CPU % (of one core, summed over instances) and RSS; the load generator's own CPU %;
 * and "foreign" CPU: what the rest of the machine (other users, the runner) burnt meanwhile.
 */
function serverSide(pids: number[], cpu?: ReturnType<CpuWindow["read"]>): Partial<LoadResult> {
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

// ---- scenario: fan-out 1 → N --------------------------------------------------------------

async function fanout(): Promise<LoadResult> {
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
  const pos = wire(positionTemplate(true));
  const chat = wire(chatTemplate(50));
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
    const c = await makeConn(sink, rxPort, room, `r${i}`);
    c.group = 1;
    receivers.push(c);
  }
  sender = await makeConn(sink, spec.ports[0], room, "s0");
  allConns = [...receivers, sender];
  const t0 = performance.now();
  const failedRx = await openAll(receivers, 64);
  const failedTx = await openAll([sender], 1);
  const connectMs = performance.now() - t0;
  if (failedRx + failedTx > 0) {
    const f = connectFailures(allConns);
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
  const closed = allConns.filter((c) => c.isClosed).length;
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
    server_errors: allConns.reduce((a, c) => a + c.serverErrors, 0),
    closed_by_server: closed,
    ...serverSide(spec.serverPids, cpuRead),
    measure_s: sig(wall, 3),
    error: closed > 0 ? allConns.find((c) => c.error)?.error : undefined,
  };
}

// ---- scenario: many clients in rooms at a fixed rate -------------------------------------

async function position(): Promise<LoadResult> {
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
    const c = await makeConn(sink, spec.ports[0], `bench-pos-${r}`, `p${i}`);
    c.group = r;
    conns.push(c);
  }
  allConns = conns;
  const t0 = performance.now();
  const failed = await openAll(conns, spec.concurrency ?? 100);
  const connectMs = performance.now() - t0;
  if (failed > 0) {
    const f = connectFailures(conns);
    return { ok: false, error: `connect failed: ${f.first}`, connect_failures: f.n };
  }
  const roomSize = new Array(rooms).fill(0);
  for (const c of conns) roomSize[c.group]++;
  await sleep(300);

  // Open loop: client i sends at phase i/C of each period; a 2 ms ticker sends whatever is due.
  const tpl = wire(positionTemplate(false));
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

// ---- scenario: idle connections (memory) --------------------------------------------------

async function idle(): Promise<LoadResult> {
  const N = spec.conns ?? 10_000;
  const rooms = spec.rooms ?? 100;
  const pid = spec.serverPids[0];
  const sink: Sink = { onSeq() {} };
  // A few connections first, so one-off start-up allocations are not charged to the N.
  const base: WsConn[] = [];
  for (let i = 0; i < 20; i++) base.push(await makeConn(sink, spec.ports[0], "bench-idle-warm", `w${i}`));
  const conns: WsConn[] = [];
  for (let i = 0; i < N; i++) conns.push(await makeConn(sink, spec.ports[0], `bench-idle-${i % rooms}`, `i${i}`));
  allConns = [...base, ...conns];
  if ((await openAll(base, 20)) > 0) return { ok: false, error: `connect failed: ${connectFailures(base).first}` };
  await sleep(spec.settleMs ?? 1000);
  const before = rssKiB(pid);
  const t0 = performance.now();
  const failed = await openAll(conns, spec.concurrency ?? 200);
  const connectMs = performance.now() - t0;
  if (failed > 0) {
    const f = connectFailures(conns);
    return { ok: false, error: `connect failed: ${f.first}`, connect_failures: f.n };
  }
  await sleep(spec.settleMs ?? 1000);
  // RSS settles as the runtime collects garbage from the connect burst: take the last of a few.
  const samples: number[] = [];
  for (let i = 0; i < 4; i++) {
    samples.push(rssKiB(pid));
    await sleep(250);
  }
  const after = samples[samples.length - 1];
  const closed = allConns.filter((c) => c.isClosed).length;
  return {
    ok: closed === 0,
    error: closed > 0 ? `${closed} connections closed by the server: ${allConns.find((c) => c.error)?.error}` : undefined,
    conns: N,
    connect_ms: sig(connectMs, 3),
    rss_before_kib: before,
    rss_after_kib: after,
    rss_per_conn_kib: sig((after - before) / N, 3),
    server_rss_kib: after,
  };
}

// ---- scenario: connection storm ----------------------------------------------------------

async function storm(): Promise<LoadResult> {
  const N = spec.conns ?? 5000;
  const rooms = spec.rooms ?? 50;
  const sink: Sink = { onSeq() {} };
  const conns: WsConn[] = [];
  for (let i = 0; i < N; i++) conns.push(await makeConn(sink, spec.ports[0], `bench-storm-${i % rooms}`, `t${i}`));
  allConns = conns;
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

// ---- main ----------------------------------------------------------------------------------

try {
  const run = { fanout, position, idle, storm }[spec.scenario];
  if (!run) finish({ ok: false, error: `unknown scenario ${spec.scenario}` });
  const r = await run();
  for (const c of allConns) c.close();
  await sleep(100);
  finish(r);
} catch (e) {
  finish({ ok: false, error: `load generator crashed: ${(e as Error).stack ?? e}` });
}
