/** The handler of PING and PONG: answered directly, never relayed. @module */
import { MessageType } from "../../protocol/types.ts";
import type { MessageHandler } from "../router.ts";

/** PING (JSON `{"type":"PING"}` or `{"type":255}`): answered with a PONG in the same format, never relayed. */
export const pingHandler: MessageHandler<"ping"> = {
  kind: "ping",
  handle(ctx, msg, ping) {
    ctx.out.send(ctx.conn, {
      type: MessageType.PONG,
      payload: "pong",
      pong: { client_time: ping.client_time || msg.timestamp || 0, server_time: ctx.now },
    }, ctx.inFormat);
  },
};

/** PONG from a client: an answer to nothing the server asked; dropped quietly. */
export const pongHandler: MessageHandler<"pong"> = {
  kind: "pong",
  handle() {},
};
