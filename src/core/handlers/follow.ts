/** The handler of FOLLOW and UNFOLLOW (docs/protocol.md, "Batches and interest"). @module */
import { ErrorCode } from "../../errors.ts";
import { MessageType } from "../../protocol/types.ts";
import type { MessageHandler } from "../router.ts";

/**
 * FOLLOW / UNFOLLOW: the entities (avatars: client ids) a client gets at every tick in batch
 * mode, whatever their distance (at most 64; more are ignored). Never relayed.
 */
export const followHandler: MessageHandler<"follow"> = {
  kind: "follow",
  handle(ctx, msg, f) {
    const ids = f.entity_ids ?? [];
    if (ids.some((id) => typeof id !== "string" || id.length > 256)) {
      return ctx.out.error(ctx.conn, ErrorCode.BAD_MESSAGE, "entity_ids must be ids", ctx.ref);
    }
    ctx.services.follow(ctx.conn, ids, msg.type === MessageType.FOLLOW);
  },
};
