/**
 * The dialect handshakes of the benchmark client, read from text frames: graphwiz-ws is ready at
 * its first frame, the JSON SERVER_HELLO; Socket.IO 4 over the websocket transport answers
 * Engine.IO v4 open and ping, connects the namespace with `auth`, and announces each binary event
 * with a text header whose attachment follows as a binary frame. (Raw baselines are ready at `101`.)
 * @module
 */
import type { WsConn } from "./wsclient.ts";
import { latin1 } from "./wsframe.ts";

/** Socket.IO: the text header of a binary event `m` with one attachment. */
export const SIO_EVENT_HEADER = '451-["m",{"_placeholder":true,"num":0}]';

/** Handles a text frame (payload `b[p, p + len)`) on `c` as its dialect reads it. */
export function dialectText(c: WsConn, b: Uint8Array, p: number, len: number): void {
  if (c.dialect === "gw") {
    if (c.inHandshake) {
      // The first frame is the JSON SERVER_HELLO.
      if (latin1(b, p, p + 22) === '{"type":"SERVER_HELLO"') c.markReady();
      else c.fail(`first frame is not SERVER_HELLO: ${latin1(b, p, p + Math.min(len, 200))}`);
    } else c.textFrames++;
    return;
  }
  if (c.dialect !== "sio") {
    c.textFrames++;
    return;
  }
  const c0 = b[p];
  if (c0 === 0x32 /* 2 ping */) c.sendText("3");
  else if (c0 === 0x30 /* 0 open */) c.sendText(c.token ? `40${JSON.stringify({ token: c.token })}` : "40");
  else if (c0 === 0x34 /* 4 message */) {
    const c1 = b[p + 1];
    if (c1 === 0x35 /* 5 binary event */) {
      let k = 0;
      for (let i = p + 2; i < p + len && b[i] !== 0x2d; i++) k = k * 10 + (b[i] - 48);
      c.sioAttach = k;
    } else if (c1 === 0x30 /* 0 connect */) c.markReady();
    else if (c1 === 0x34 /* 4 connect error */) c.fail(`socket.io connect error: ${latin1(b, p, p + len)}`);
    else c.textFrames++;
  } else if (c0 === 0x31 /* 1 close */) c.fail("socket.io closed");
}
