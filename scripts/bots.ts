/**
 * Bots that keep a room alive for the demo page: N avatars walk around (random waypoints on a
 * 20 × 20 m plane, 10 position updates per second), chat now and then, and every fourth bot
 * owns a crate that it recolours from time to time. They use the client SDK like any app.
 *
 *   npm run bots -- --room demo --n 10 [--url ws://localhost:8083] [--seconds 60] [--hz 10]
 *
 * Stops on Ctrl-C (each bot leaves cleanly) or after `--seconds`. `startBots` is the same thing
 * as a function (the browser test drives the demo page with it).
 * @module
 */
import { GraphwizClient } from "../src/client/index.ts";

/** Options of {@link startBots}. */
export interface BotOptions {
  /** Server base URL. @default "ws://localhost:8083" */
  url?: string;
  /** @default "demo" */
  room?: string;
  /** How many bots. @default 10 */
  n?: number;
  /** Position updates per second per bot. @default 10 */
  hz?: number;
  /** Random source (tests may fix it). @default Math.random */
  random?: () => number;
}

const NAMES = ["Ada", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai", "Lu", "Max", "Nia", "Oz", "Pia"];
const LINES = ["hello there!", "nice room", "anyone seen the crate?", "brb", "this is smooth", "walking…", "hi all 👋", "over here!"];
const COLORS = ["#ef5350", "#ffa726", "#ffee58", "#66bb6a", "#42a5f5", "#ab47bc"];
const HALF = 9;
/** A point on the plane (every coordinate known). */
type P = { x: number; y: number; z: number };

/** Running bots: their clients, and `stop()` (each leaves with a normal close). */
export interface Bots {
  clients: GraphwizClient[];
  stop(): void;
}

/** Connects `n` bots and starts them walking; resolves once all are in the room. */
export async function startBots(opts: BotOptions = {}): Promise<Bots> {
  const { url = "ws://localhost:8083", room = "demo", n = 10, hz = 10, random = Math.random } = opts;
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const spot = (): P => ({ x: (random() * 2 - 1) * HALF, y: 0, z: (random() * 2 - 1) * HALF });
  const timers: ReturnType<typeof setInterval>[] = [];
  const clients = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const name = `${NAMES[i % NAMES.length]}${i >= NAMES.length ? i : ""} (bot)`;
    const c = new GraphwizClient({ url, room, clientId: `bot-${i}-${Math.floor(random() * 1e6).toString(36)}`, displayName: name });
    await c.connect();
    let at = spot(), goal = spot();
    const speed = 1 + random(); // m/s
    c.sendPosition(at);
    timers.push(setInterval(() => {
      const dx = goal.x - at.x, dz = goal.z - at.z, d = Math.hypot(dx, dz), step = speed / hz;
      if (d <= step) goal = spot();
      else at = { x: at.x + (dx / d) * step, y: 0, z: at.z + (dz / d) * step };
      const yaw = Math.atan2(dx, dz);
      c.sendPosition(at, { x: 0, y: Math.sin(yaw / 2), z: 0, w: Math.cos(yaw / 2) });
    }, 1000 / hz));
    timers.push(setInterval(() => random() < 0.25 && c.sendChat(pick(LINES)), 3000 + random() * 3000));
    if (i % 4 === 0) {
      const crate = `crate-${c.clientId}`;
      c.spawnEntity({ entity_id: crate, template_id: "crate", components: { color: pick(COLORS) }, position: spot() });
      timers.push(setInterval(() => c.updateEntity(crate, { color: pick(COLORS) }), 4000 + random() * 4000));
    }
    return c;
  }));
  return {
    clients,
    stop() {
      for (const t of timers) clearInterval(t);
      for (const c of clients) if (c.state !== "closed") c.close();
    },
  };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const num = (name: string) => (arg(name) === undefined ? undefined : Number(arg(name)));
  const opts: BotOptions = { url: arg("url") ?? "ws://localhost:8083", room: arg("room") ?? "demo", n: num("n") ?? 10, hz: num("hz") ?? 10 };
  for (const [k, v] of Object.entries(opts)) {
    if (typeof v === "number" && !(v > 0)) {
      console.error(`--${k} must be a positive number`);
      process.exit(2);
    }
  }
  console.log(`connecting ${opts.n} bots to ${opts.url}, room "${opts.room}"…`);
  const bots = await startBots(opts);
  const page = opts.url!.replace(/^ws/, "http").replace(/\/$/, "");
  console.log(`${opts.n} bots walking in room "${opts.room}"; watch at ${page}/demo/${encodeURIComponent(opts.room!)} (Ctrl-C stops)`);
  const stop = () => (bots.stop(), setTimeout(() => process.exit(0), 300));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const seconds = num("seconds");
  if (seconds) setTimeout(stop, seconds * 1000);
}
