/** The handler of ACK: cumulative acknowledgements of reliable messages. @module */
import type { MessageHandler } from "../router.ts";

/** ACK (`{"type":"ACK","seq":N[,"epoch":E]}`): everything up to N arrived. Cumulative; never relayed. */
export const ackHandler: MessageHandler<"ack"> = {
  kind: "ack",
  handle(ctx, _msg, ack) {
    if (ctx.conn.reliable) ctx.services.acks.ack(ctx.conn, ack.seq ?? 0, ack.epoch || undefined);
  },
};
