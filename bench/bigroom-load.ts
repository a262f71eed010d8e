/**
 * The `bigroom` load generator (run by bench/bigroom.ts, pinned to its own core): N avatars
 * random-walking on a plane at 20 Hz in one room, protobuf. Every 10th avatar is an observer
 * whose frames are fully read: for it the age of the newest pose it holds of each of its 32
 * true nearest neighbours (sampled every 100 ms), the lowest rate at which it sees any avatar,
 * and bytes/s. Prints one JSON line of results.
 * Usage: bun bench/bigroom-load.ts '{"port":N,"n":1000,"batch":true,"warmS":4,"secs":15}'
 * @module
 */
import { WsConn, type Sink } from "./lib/wsclient.ts";
import { clientFrame } from "./lib/wsframe.ts";
import { openAll } from "./lib/wsopen.ts";
import { encodeBinary } from "../src/protocol/proto.ts";
import { MessageType } from "../src/protocol/types.ts";

const spec = JSON.parse(process.argv[2]) as { port: number; n: number; batch: boolean; warmS: number; secs: number; density?: number };
const N = spec.n, HZ = 20, K = 32, OBS_EVERY = 10, RING = 256;
const side = Math.sqrt(N / (spec.density ?? 0.1));
const px = new Float64Array(N), pz = new Float64Array(N), dir = new Float64Array(N);
for (let i = 0; i < N; i++) [px[i], pz[i], dir[i]] = [Math.random() * side, Math.random() * side, Math.random() * 2 * Math.PI];
const seq = new Uint32Array(N);
const sentAt = new Float64Array(N * RING);
const observers: number[] = [];
for (let i = 0; i < N; i += OBS_EVERY) observers.push(i);
const obsIndex = new Int32Array(N).fill(-1);
observers.forEach((o, j) => (obsIndex[o] = j));
const held = observers.map(() => new Int32Array(N).fill(-1)); // newest seq held per entity
const seen = observers.map(() => new Uint32Array(N)); // poses received in the window
const slots = observers.map(() => new Map<number, number>()); // slot → avatar index
const bytes = new Float64Array(N);
let measuring = false;
const ages: number[] = [];
const utf8 = new TextDecoder();

function varint(b: Uint8Array, s: { p: number }): number {
  let n = 0, mul = 1, x;
  do {
    x = b[s.p++];
    n += (x & 127) * mul;
    mul *= 128;
  } while (x & 128);
  return n;
}
const avatarOf = (b: Uint8Array, p: number, len: number) => Number(utf8.decode(b.subarray(p + 1, p + len))); // "a123"

function gotPose(j: number, idx: number, sq: number): void {
  if (idx < 0 || idx >= N) return;
  const h = held[j];
  if (sq > h[idx]) h[idx] = sq;
  if (measuring) seen[j][idx]++;
}

/** A Message frame: POSE_BATCH (field 90) or POSITION_UPDATE (field 20). */
function readFrame(j: number, b: Uint8Array, p: number, end: number): void {
  const s = { p };
  while (s.p < end) {
    const tag = varint(b, s);
    const f = Math.floor(tag / 8), wt = tag & 7;
    if (wt === 0) { varint(b, s); continue; }
    if (wt !== 2) return;
    const l = varint(b, s);
    const bodyEnd = s.p + l;
    if (f === 90) readBatch(j, b, s.p, bodyEnd);
    else if (f === 20) readPose(j, b, s.p, bodyEnd, false);
    s.p = bodyEnd;
  }
}
function readBatch(j: number, b: Uint8Array, p: number, end: number): void {
  const s = { p };
  while (s.p < end) {
    s.p++; // tag 0x0a
    const l = varint(b, s);
    readPose(j, b, s.p, s.p + l, true);
    s.p += l;
  }
}
function readPose(j: number, b: Uint8Array, p: number, end: number, batch: boolean): void {
  const s = { p };
  let slot = -1, idx = -1, sq = 0;
  while (s.p < end) {
    const tag = varint(b, s);
    const f = tag >> 3, wt = tag & 7;
    if (wt === 2) {
      const l = varint(b, s);
      if ((batch && f === 2) || (!batch && f === 1)) idx = avatarOf(b, s.p, l);
      s.p += l;
    } else if (wt === 0) {
      const v = varint(b, s);
      if (batch && f === 1) slot = v;
      else if ((batch && f === 10) || (!batch && f === 4)) sq = v;
    } else if (wt === 5) s.p += 4;
    else return;
  }
  if (batch) {
    if (idx >= 0) slots[j].set(slot, idx);
    else idx = slots[j].get(slot) ?? -1;
  }
  gotPose(j, idx, sq);
}

const sink: Sink = {
  onSeq() {},
  onFrame(c, b, p, len) {
    bytes[c.group] += len;
    const j = obsIndex[c.group];
    if (j >= 0) readFrame(j, b, p, p + len);
    return true;
  },
};
const conns = Array.from({ length: N }, (_, i) => {
  const c = new WsConn(sink, "gw", spec.port, `/ws/big?client_id=a${i}&format=protobuf${spec.batch ? "&batch=1" : ""}`);
  c.group = i;
  return c;
});
const failed = await openAll(conns, 32, 120_000);
if (failed) console.error(`${failed} connections failed: ${conns.find((c) => c.error)?.error}`);

// The walk: 1.4 m/s, turning a little each step, bouncing off the edges.
const stepS = 1 / HZ;
function send(i: number, now: number): void {
  const a = dir[i] += (Math.random() - 0.5) * 0.6;
  px[i] = Math.min(side, Math.max(0, px[i] + Math.cos(a) * 1.4 * stepS));
  pz[i] = Math.min(side, Math.max(0, pz[i] + Math.sin(a) * 1.4 * stepS));
  if (px[i] <= 0 || px[i] >= side || pz[i] <= 0 || pz[i] >= side) dir[i] += Math.PI;
  const sq = ++seq[i];
  sentAt[i * RING + (sq % RING)] = now;
  const msg = encodeBinary({
    type: MessageType.POSITION_UPDATE, payload: "position_update",
    position_update: { position: { x: px[i], y: 0, z: pz[i] }, rotation: { x: 0, y: Math.sin(a / 2), z: 0, w: Math.cos(a / 2) }, sequence_number: sq },
  });
  conns[i].write(clientFrame(2, msg));
}
// Sends spread over the 50 ms period: a tenth of the avatars every 5 ms. Time-based: a late
// timer sends every slice that came due meanwhile (a starved generator would otherwise send less).
let turn = 0, sent = 0;
const SLICES = 10, SLICE_MS = 1000 / HZ / SLICES;
let due = performance.now();
const sender = setInterval(() => {
  const now = performance.now();
  for (let k = 0; due <= now && k < SLICES; k++, due += SLICE_MS) {
    for (let i = turn; i < N; i += SLICES) if (conns[i].isReady) send(i, now), sent++;
    turn = (turn + 1) % SLICES;
  }
  if (due <= now) due = now; // more than a whole period behind: drop it
}, SLICE_MS);

// Ages: every 100 ms, each observer's 32 true nearest neighbours.
const d2 = new Float64Array(N), sortedD = new Float64Array(N);
function sample(): void {
  const now = performance.now();
  for (const [j, o] of observers.entries()) {
    for (let i = 0; i < N; i++) d2[i] = i === o ? Infinity : (px[i] - px[o]) ** 2 + (pz[i] - pz[o]) ** 2;
    sortedD.set(d2);
    sortedD.sort(); // native numeric sort: the K-th distance
    const kth = sortedD[Math.min(K, N - 1) - 1];
    for (let i = 0; i < N; i++) {
      if (i === o || d2[i] > kth) continue;
      const sq = held[j][i];
      ages.push(sq < 0 ? 10_000 : now - sentAt[i * RING + (sq % RING)]);
    }
  }
}
await Bun.sleep(spec.warmS * 1000);
const t0 = performance.now();
const sent0 = sent;
const bytes0 = Float64Array.from(bytes);
measuring = true;
console.log(JSON.stringify({ event: "measuring" }));
const sampler = setInterval(sample, 100);
await Bun.sleep(spec.secs * 1000);
measuring = false;
console.log(JSON.stringify({ event: "stop" }));
clearInterval(sampler);
clearInterval(sender);
const wall = (performance.now() - t0) / 1000;
ages.sort((a, b) => a - b);
const q = (p: number) => ages[Math.min(ages.length - 1, Math.floor(p * ages.length))] ?? NaN;
let slowest = Infinity;
for (const [j, o] of observers.entries()) for (let i = 0; i < N; i++) if (i !== o) slowest = Math.min(slowest, seen[j][i] / wall);
let maxBps = 0, sumBps = 0;
for (let i = 0; i < N; i++) {
  const r = (bytes[i] - bytes0[i]) / wall;
  maxBps = Math.max(maxBps, r);
  sumBps += r;
}
const closed = conns.filter((c) => c.isClosed).length;
console.log(JSON.stringify({
  event: "result", n: N, batch: spec.batch, wallS: wall, observers: observers.length, samples: ages.length,
  sendHz: (sent - sent0) / wall / N, ageP50: q(0.5), ageP99: q(0.99), slowestHz: slowest, maxKBps: maxBps / 1000, meanKBps: sumBps / N / 1000, closed, failed,
}));
for (const c of conns) c.terminate();
process.exit(0);
