// Baseline: a raw Node `ws` room relay. `node node-ws.mjs naive` sends to each other member in a
// JS loop; `node node-ws.mjs corked` also corks each recipient's TCP socket on its first frame
// of the tick and uncorks them all on the next turn of the event loop (setImmediate), so all the
// frames a recipient gets in one tick leave in one write. Rooms are `/ws/{room}`; with
// JWT_SECRET set, `?token=` must verify (HS256).
import { createServer } from "node:http";
import { verify } from "hono/jwt";
import { WebSocketServer } from "ws";

const corkedMode = process.argv[2] === "corked";
const secret = process.env.JWT_SECRET;
const rooms = new Map();
const corked = [];
const uncorkAll = () => {
  for (const ws of corked) {
    ws.isCorked = false;
    ws._socket.uncork();
  }
  corked.length = 0;
};

const wss = new WebSocketServer({ noServer: true });
const server = createServer((_req, res) => res.writeHead(404).end());
server.on("upgrade", async (req, socket, head) => {
  socket.on("error", () => socket.destroy());
  const url = new URL(req.url ?? "/", "http://localhost");
  const m = /^\/ws\/([^/]+)$/.exec(url.pathname);
  if (!m) return socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  if (secret) {
    try {
      await verify(url.searchParams.get("token") ?? "", secret, "HS256");
    } catch {
      return socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
  }
  wss.handleUpgrade(req, socket, head, (ws) => join(ws, m[1]));
});

function join(ws, room) {
  let members = rooms.get(room);
  if (!members) rooms.set(room, (members = new Set()));
  members.add(ws);
  ws.on("message", (data, isBinary) => {
    for (const peer of members) {
      if (peer === ws || peer.readyState !== 1) continue;
      if (corkedMode && !peer.isCorked) {
        peer.isCorked = true;
        peer._socket.cork();
        if (corked.push(peer) === 1) setImmediate(uncorkAll);
      }
      peer.send(data, { binary: isBinary });
    }
  });
  ws.on("close", () => {
    members.delete(ws);
    if (members.size === 0) rooms.delete(room);
  });
}

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  console.log(JSON.stringify({ event: "listening", port: server.address().port, baseline: corkedMode ? "node-ws-corked" : "node-ws" }));
});
