/**
 * [sdk] Batches: the SDK asks for POSE_BATCH by default, hands each pose on as the usual
 * `position` event (metres, unit quaternion), never its own, and follow() gets a far avatar at
 * every tick (compared with a member that does not follow it).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { GraphwizClient, type ClientOptions, type PoseChange } from "../../src/client/index.ts";
import { startServer, type RunningServer } from "../helpers/server.ts";

let s: RunningServer;
const open: GraphwizClient[] = [];
beforeAll(async () => {
  s = await startServer("bun", { INTEREST_MIN_ROOM_SIZE: "4", INTEREST_NEAREST: "1", INTEREST_RADIUS: "0", RATE_LIMIT_MESSAGES: "100000" });
});
afterAll(async () => {
  for (const c of open) if (c.state !== "closed") c.close();
  await s?.stop();
});
async function client(clientId: string, opts: Partial<ClientOptions> = {}): Promise<GraphwizClient> {
  const c = new GraphwizClient({ url: s.ws, room: "sdk-batch", clientId, reconnect: false, ...opts });
  open.push(c);
  await c.connect();
  return c;
}

test("poses from batches are position events; follow() brings a far avatar at every tick", async () => {
  const ann = await client("ann", { format: "protobuf" });
  const dave = await client("dave");
  const bob = await client("bob");
  const carl = await client("carl");
  const got = { ann: [] as PoseChange[], dave: [] as PoseChange[] };
  ann.on("position", (p) => got.ann.push(p));
  dave.on("position", (p) => got.dave.push(p));
  let frames = 0;
  ann.on("message", (m) => m.type === 60 && frames++);
  ann.sendPosition({ x: 0, y: 0, z: 0 });
  dave.sendPosition({ x: 0, y: 0, z: 0.2 });
  ann.follow("carl");
  let i = 0;
  const walk = setInterval(() => {
    i++;
    bob.sendPosition({ x: 1, y: 1.5, z: i * 0.001 }, { x: 0, y: 0.6, z: 0, w: 0.8 }, "", i);
    carl.sendPosition({ x: 80, y: 0, z: i * 0.001 }, undefined, "", i);
  }, 50);
  await Bun.sleep(2500);
  clearInterval(walk);
  await Bun.sleep(200);
  expect(frames).toBeGreaterThan(0); // batches, not single frames
  const bobs = got.ann.filter((p) => p.entity_id === "bob");
  expect(bobs.length).toBeGreaterThan(0);
  const last = bobs.at(-1)!;
  expect(last.target).toBe("player");
  expect(last.position!.x).toBeCloseTo(1, 3);
  expect(last.position!.y).toBeCloseTo(1.5, 3);
  expect(last.rotation!.y).toBeCloseTo(0.6, 3);
  expect(last.rotation!.w).toBeCloseTo(0.8, 3);
  expect(last.sequence_number).toBeGreaterThan(0);
  expect(ann.players.get("bob")!.position!.x).toBeCloseTo(1, 3);
  expect(got.ann.some((p) => p.entity_id === "ann" && p.source === "server")).toBe(false); // never its own back
  const carlAnn = got.ann.filter((p) => p.entity_id === "carl").length;
  const carlDave = got.dave.filter((p) => p.entity_id === "carl").length;
  expect(carlDave).toBeGreaterThan(0);
  expect(carlAnn).toBeGreaterThan(3 * carlDave);
  ann.unfollow("carl");
}, 20_000);
