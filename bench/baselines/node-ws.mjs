// Baseline: a raw Node `ws` room relay. `node node-ws.mjs naive` sends to each other member in a
// JS loop; `node node-ws.mjs corked` also corks each recipient's TCP socket on its first frame
// of the tick and uncorks them all on the next turn of the event loop (setImmediate), so all the
// frames a recipient gets in one tick leave in one write. `preframed` (the runtime's limit the
// targets are judged against) frames each broadcast once (header and payload in one buffer) and
// gives each recipient one write per tick: the frames it got in that tick, joined. Runs on Node and, through
// its Node compatibility, on Deno. Rooms are `/ws/{room}`; with JWT_SECRET set, `?token=` must
// verify (HS256).
import { createServer } from "node:http";
import { verify } from "hono/jwt";
import { WebSocketServer } from "ws";

const mode = process.argv[2] ?? "naive";
const corkedMode = mode === "corked";
const preframed = mode === "preframed";

/** One unmasked server frame (FIN + opcode, length, payload) in one buffer. */
function frame(data, isBinary) {
  const n = data.length;
  const h = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(h + n);
  out[0] = isBinary ? 0x82 : 0x81;
  if (n < 126) out[1] = n;
  else if (n < 65536) (out[1] = 126), out.writeUInt16BE(n, 2);
  else (out[1] = 127), out.writeUInt32BE(Math.floor(n / 2 ** 32), 2), out.writeUInt32BE(n >>> 0, 6);
  data.copy(out, h);
  return out;
}
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

// preframed: sockets with frames waiting for the end of this tick.
const dirty = [];
const flushAll = () => {
  for (const ws of dirty) {
    const p = ws.pending;
    ws.pending = undefined;
    if (ws.readyState === 1) ws._socket.write(p.length === 1 ? p[0] : Buffer.concat(p));
  }
  dirty.length = 0;
};

const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false });
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
    const wire = preframed ? frame(data, isBinary) : undefined;
    for (const peer of members) {
      if (peer === ws || peer.readyState !== 1) continue;
      if (corkedMode && !peer.isCorked) {
        peer.isCorked = true;
        peer._socket.cork();
        if (corked.push(peer) === 1) setImmediate(uncorkAll);
      }
      if (!wire) peer.send(data, { binary: isBinary });
      else if (peer.pending) peer.pending.push(wire);
      else {
        peer.pending = [wire];
        if (dirty.push(peer) === 1) setImmediate(flushAll);
      }
    }
  });
  ws.on("close", () => {
    members.delete(ws);
    if (members.size === 0) rooms.delete(room);
  });
}

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  console.log(JSON.stringify({ event: "listening", port: server.address().port, baseline: `node-ws-${mode}` }));
});
