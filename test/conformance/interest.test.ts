/**
 * [conformance] Batches and interest (docs/protocol.md, "Batches and interest") on every runtime:
 * 30 avatars walking in one room switched to batch mode (INTEREST_MIN_ROOM_SIZE low), watched by
 * a protobuf and a JSON batch client, a single-frame protobuf client and a GraphWiz-XR client.
 * Near ones come at every tick, far ones at the far rate, followed ones always; poses carry the
 * sent position in millimetres. Rates are compared with each other, not with the clock.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseBinary, parseText } from "../../src/protocol/codec.ts";
import { decodeBinary, encodeBinary } from "../../src/protocol/proto.ts";
import { MessageType, type Envelope } from "../../src/protocol/types.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";

const N = 30;
const ENV = { INTEREST_MIN_ROOM_SIZE: "10", INTEREST_NEAREST: "5", INTEREST_RADIUS: "0", INTEREST_FAR_HZ: "2", ROOM_TICK_HZ: "20", RATE_LIMIT_MESSAGES: "100000" };

/** What one observer saw: poses per entity id, and the last position of each. */
class Seen {
  count = new Map<string, number>();
  last = new Map<string, { x: number; z: number }>();
  slots = new Map<number, string>();
  frames = new Map<number, number>();
  add(id: string, x: number, z: number): void {
    this.count.set(id, (this.count.get(id) ?? 0) + 1);
    this.last.set(id, { x, z });
  }
  msg(m: Envelope): void {
    this.frames.set(m.type!, (this.frames.get(m.type!) ?? 0) + 1);
    if (m.payload === "pose_batch") {
      for (const p of m.pose_batch!.poses ?? []) {
        if (p.entity_id) this.slots.set(Number(p.slot), p.entity_id);
        const id = this.slots.get(Number(p.slot));
        if (id) this.add(id, (p.x ?? 0) / 1000, (p.z ?? 0) / 1000);
      }
    } else if (m.payload === "position_update") {
      const p = m.position_update!;
      this.add(p.entity_id!, p.position?.x ?? 0, p.position?.z ?? 0);
    }
  }
  reset(): void {
    this.count.clear();
    this.frames.clear();
  }
  n(id: string): number {
    return this.count.get(id) ?? 0;
  }
}

async function open(s: RunningServer, id: string, query: string, seen?: Seen): Promise<WebSocket> {
  const ws = new WebSocket(`${s.ws}/ws/big?client_id=${id}&${query}`);
  ws.binaryType = "arraybuffer";
  ws.onmessage = (e) => {
    if (!seen) return;
    if (typeof e.data === "string") {
      const t = parseText(e.data);
      if (t.kind === "typed") seen.msg(t.msg);
      return;
    }
    const r = parseBinary(new Uint8Array(e.data));
    if ("msg" in r) seen.msg(r.msg);
  };
  await new Promise<void>((res, rej) => {
    ws.onopen = () => res();
    ws.onerror = () => rej(new Error(`${id} could not connect`));
  });
  return ws;
}
const pose = (x: number, z: number, seq: number) => new Uint8Array(encodeBinary({ type: MessageType.POSITION_UPDATE, payload: "position_update", position_update: { position: { x, y: 0, z }, sequence_number: seq } }));

for (const runtime of RUNTIMES) {
  describe(`batches and interest [${runtime}]`, () => {
    let s: RunningServer;
    const sockets: WebSocket[] = [];
    beforeAll(async () => {
      s = await startServer(runtime, ENV);
    });
    afterAll(async () => {
      for (const w of sockets) w.close();
      await s?.stop();
    });

    test("near at every tick, far at the far rate, followed always; every format sees the same selection", async () => {
      const seen = { pb: new Seen(), json: new Seen(), single: new Seen(), xr: new Seen() };
      const obs = {
        pb: await open(s, "obs-pb", "format=protobuf&batch=1", seen.pb),
        json: await open(s, "obs-json", "format=json&batch=1", seen.json),
        single: await open(s, "obs-single", "format=protobuf", seen.single),
        xr: await open(s, "obs-xr", "format=xr", seen.xr),
      };
      sockets.push(...Object.values(obs));
      // Observers stand at (0, -1); avatars in a row 2 m apart from (0, 0): a0 and a1 are near.
      for (const w of Object.values(obs)) w.send(pose(0, -1, 1));
      const avatars: WebSocket[] = [];
      for (let i = 0; i < N; i++) avatars.push(await open(s, `a${i}`, "format=protobuf"));
      sockets.push(...avatars);
      let seq = 0;
      const walk = setInterval(() => {
        seq++;
        avatars.forEach((w, i) => w.readyState === 1 && w.send(pose(i * 2, (seq % 10) * 0.001, seq)));
      }, 50);
      obs.pb.send(new Uint8Array(encodeBinary({ type: MessageType.FOLLOW, payload: "follow", follow: { entity_ids: ["a25"] } })));
      obs.json.send(JSON.stringify({ type: "FOLLOW", payload: { entity_ids: ["a25"] } }));
      await Bun.sleep(1000);
      for (const v of Object.values(seen)) v.reset();
      await Bun.sleep(3000);
      clearInterval(walk);
      await Bun.sleep(200);

      for (const [name, v] of Object.entries(seen)) {
        const near = Math.min(v.n("a0"), v.n("a1"));
        const far = Math.max(...Array.from({ length: 10 }, (_, k) => v.n(`a${10 + k}`)));
        const farMin = Math.min(...Array.from({ length: 20 }, (_, k) => (k + 10 === 25 ? Infinity : v.n(`a${10 + k}`))));
        expect({ name, farMin: farMin > 0 }).toEqual({ name, farMin: true }); // everyone is seen
        expect({ name, nearBeatsFar: near > 3 * far }).toEqual({ name, nearBeatsFar: true });
        expect(v.n("a2")).toBeLessThan(near); // just past the 10 % margin: far
        if (name === "pb" || name === "json") expect(v.n("a25")).toBeGreaterThan(3 * far); // followed
        // The newest pose names the right place (millimetres, rounded).
        expect(v.last.get("a7")!.x).toBeCloseTo(14, 3);
      }
      // Batch clients got batches, the others single POSITION_UPDATE frames.
      expect(seen.pb.frames.get(MessageType.POSITION_UPDATE) ?? 0).toBe(0);
      expect(seen.pb.frames.get(MessageType.POSE_BATCH)).toBeGreaterThan(0);
      expect(seen.json.frames.get(MessageType.POSE_BATCH)).toBeGreaterThan(0);
      expect(seen.single.frames.get(MessageType.POSE_BATCH) ?? 0).toBe(0);
      expect(seen.xr.frames.get(MessageType.POSE_BATCH) ?? 0).toBe(0);
      // Batch frames number about one per tick, far fewer than the poses they carry.
      const poses = [...seen.pb.count.values()].reduce((a, b) => a + b, 0);
      expect(seen.pb.frames.get(MessageType.POSE_BATCH)!).toBeLessThan(poses / 2);
      // /metrics: the room is in batch mode and its timer calls were timed.
      const text = await (await fetch(`${s.http}/metrics?format=prometheus`)).text();
      expect(text).toMatch(/^graphwiz_ws_batch_rooms 1$/m);
      const phases = Number(/^graphwiz_ws_room_tick_phase_duration_seconds_count (\d+)$/m.exec(text)?.[1]);
      expect(phases).toBeGreaterThan(4 * 20 * 3); // four calls per tick at 20 Hz, over more than 3 s
      expect(text).toMatch(/^graphwiz_ws_batch_frames_skipped_total \d+$/m);
      void decodeBinary;
    }, 30_000);
  });
}
