// @ts-nocheck -- Deno-only file (Deno globals); the project's tsc runs with Bun's types.
/**
 * Baseline: a raw Deno room relay. `Deno.serve` + `Deno.upgradeWebSocket`; each message is sent
 * to every other member of the room in a JS loop (Deno has no native topics). Rooms are
 * `/ws/{room}`; with JWT_SECRET set, `?token=` must verify (HS256).
 */
import { verify } from "hono/jwt";

const secret = Deno.env.get("JWT_SECRET");
const rooms = new Map<string, Set<WebSocket>>();

Deno.serve({
  port: Number(Deno.env.get("PORT") ?? 0),
  hostname: Deno.env.get("HOST") ?? "127.0.0.1",
  onListen: ({ port }) => console.log(JSON.stringify({ event: "listening", port, baseline: "deno-loop" })),
}, async (req) => {
  const url = new URL(req.url);
  const m = /^\/ws\/([^/]+)$/.exec(url.pathname);
  if (!m || req.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("not found", { status: 404 });
  if (secret) {
    try {
      await verify(url.searchParams.get("token") ?? "", secret, "HS256");
    } catch {
      return new Response("unauthorized", { status: 401 });
    }
  }
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.binaryType = "arraybuffer";
  const room = m[1];
  let members = rooms.get(room);
  if (!members) rooms.set(room, (members = new Set()));
  socket.onopen = () => members.add(socket);
  socket.onmessage = (e) => {
    for (const peer of members) if (peer !== socket && peer.readyState === 1) peer.send(e.data);
  };
  socket.onclose = () => {
    members.delete(socket);
    if (members.size === 0) rooms.delete(room);
  };
  return response;
});
