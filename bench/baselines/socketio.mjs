// The peer users would pick instead: Socket.IO 4 on Node, websocket transport only, binary
// events, in-memory adapter — or, with REDIS_URL set, @socket.io/redis-adapter (for the
// cluster scenario). A client joins the room named by its handshake query `room`; each binary
// event `m` is re-emitted to the rest of the room. With JWT_SECRET set, the CONNECT packet's
// `auth.token` must verify (HS256).
import { createServer } from "node:http";
import { verify } from "hono/jwt";
import { Server } from "socket.io";

const secret = process.env.JWT_SECRET;
const http = createServer();
const io = new Server(http, { transports: ["websocket"], serveClient: false, perMessageDeflate: false });

if (process.env.REDIS_URL) {
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const { Redis } = await import("ioredis");
  const pub = new Redis(process.env.REDIS_URL);
  const sub = pub.duplicate();
  await Promise.all([pub, sub].map((c) => new Promise((res, rej) => (c.status === "ready" ? res() : (c.once("ready", res), c.once("error", rej))))));
  io.adapter(createAdapter(pub, sub));
}

if (secret) {
  io.use(async (socket, next) => {
    try {
      await verify(String(socket.handshake.auth?.token ?? ""), secret, "HS256");
      next();
    } catch {
      next(new Error("unauthorized"));
    }
  });
}

io.on("connection", (socket) => {
  const room = String(socket.handshake.query.room ?? "lobby");
  socket.join(room);
  socket.on("m", (data) => socket.to(room).emit("m", data));
});

http.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  console.log(JSON.stringify({ event: "listening", port: http.address().port, baseline: process.env.REDIS_URL ? "socketio-redis" : "socketio" }));
});
