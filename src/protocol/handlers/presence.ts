import { helloFrames } from "../../core/hello.ts";
import { ErrorCode } from "../../errors.ts";
import { MessageType, PresenceEventType, type AvatarConfig, type PresenceData } from "../types.ts";
import type { HandlerContext, MessageHandler } from "../router.ts";

/** Applies presence fields to the sender's player entry and tells the room (PRESENCE_UPDATE). */
function updatePresence(ctx: HandlerContext, data: PresenceData, ref?: string): void {
  const { conn, room, hub } = ctx;
  const player = room.world.updatePlayer(conn.clientId, {
    display_name: data.display_name,
    avatar_url: data.avatar_url,
    avatar_config: data.avatar_config as AvatarConfig | undefined,
    position: data.position,
    rotation: data.rotation,
  }, ctx.now);
  if (!player) return;
  hub.broadcast(room, {
    type: MessageType.PRESENCE_UPDATE,
    message_id: ref ?? "",
    payload: "presence_event",
    presence_event: {
      client_id: conn.clientId,
      event_type: PresenceEventType.UPDATE,
      data: {
        display_name: player.display_name,
        avatar_url: player.avatar_url,
        position: player.position,
        rotation: player.rotation,
        avatar_config: player.avatar_config,
      },
    },
  }, { except: conn, reliable: true });
}

/**
 * CLIENT_HELLO after connect: updates display name and avatar (broadcast as PRESENCE_UPDATE).
 * The connection's client id is fixed at upgrade; a different `client_id` here is ignored.
 */
export const clientHelloHandler: MessageHandler<"client_hello"> = {
  kind: "client_hello",
  handle(ctx, msg, hello) {
    if (hello.requested_room && hello.requested_room !== ctx.room.id) {
      return ctx.hub.sendError(ctx.conn, ErrorCode.BAD_MESSAGE, `requested_room ${hello.requested_room} is not this room`, msg.message_id);
    }
    if (hello.reliable && !ctx.conn.reliable && ctx.conn.format !== "xr") { // xr frames carry no seq to acknowledge
      // Acknowledged delivery from now on: a fresh hello carries the new session.
      ctx.hub.acks.enable(ctx.conn);
      for (const frame of helloFrames(ctx.hub, ctx.conn)) ctx.conn.transport.send(frame);
    }
    if (!hello.display_name && !hello.avatar_url && !hello.avatar_config) return;
    updatePresence(ctx, { display_name: hello.display_name, avatar_url: hello.avatar_url, avatar_config: hello.avatar_config }, msg.message_id);
  },
};

/** PRESENCE_UPDATE from a client (JOIN and LEAVE are the server's to send). */
export const presenceHandler: MessageHandler<"presence_event"> = {
  kind: "presence_event",
  handle(ctx, msg, ev) {
    if (msg.type !== MessageType.PRESENCE_UPDATE) {
      return ctx.hub.sendError(ctx.conn, ErrorCode.FORBIDDEN, "Only the server sends PRESENCE_JOIN and PRESENCE_LEAVE", msg.message_id);
    }
    updatePresence(ctx, ev.data ?? {}, msg.message_id);
  },
};
