/**
 * Baseline: the least a Bun room relay does. `Bun.serve` with native topics: each socket
 * subscribes to its room, each message is `ws.publish(room, msg)` (every other subscriber, the
 * loop runs natively). Rooms are `/ws/{room}`; with JWT_SECRET set, `?token=` must verify (HS256).
 */
import { verify } from "hono/jwt";

const secret = process.env.JWT_SECRET;
const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: process.env.HOST ?? "127.0.0.1",
  async fetch(req, srv) {
    const url = new URL(req.url);
    const m = /^\/ws\/([^/]+)$/.exec(url.pathname);
    if (!m) return new Response("not found", { status: 404 });
    if (secret) {
      try {
        await verify(url.searchParams.get("token") ?? "", secret, "HS256");
      } catch {
        return new Response("unauthorized", { status: 401 });
      }
    }
    if (srv.upgrade(req, { data: { room: m[1] } })) return undefined;
    return new Response("upgrade required", { status: 426 });
  },
  websocket: {
    data: {} as { room: string },
    open(ws) {
      ws.subscribe(ws.data.room);
    },
    message(ws, msg) {
      ws.publish(ws.data.room, msg);
    },
  },
});
console.log(JSON.stringify({ event: "listening", port: server.port, baseline: "bun-publish" }));
