/** The handler of CLIENT_HELLO and PRESENCE_UPDATE: a client's presence fields, bounded; turning on acknowledged delivery. @module */
import { ErrorCode } from "../../errors.ts";
import { then } from "../../lib/maybe.ts";
import { MessageType, PresenceEventType, type AvatarConfig, type PresenceData } from "../../protocol/types.ts";
import type { HandlerContext, MessageHandler } from "../router.ts";
import type { Player } from "../world.ts";

/** Longest display name, avatar URL and avatar config string a client may set. */
export const PRESENCE_LIMITS = { name: 128, url: 2048, text: 256 } as const;

/** Why these presence fields are refused, or undefined. */
function invalid(d: PresenceData): string | undefined {
  if ((d.display_name?.length ?? 0) > PRESENCE_LIMITS.name) return `display_name must be at most ${PRESENCE_LIMITS.name} characters`;
  if ((d.avatar_url?.length ?? 0) > PRESENCE_LIMITS.url) return `avatar_url must be at most ${PRESENCE_LIMITS.url} characters`;
  const a = d.avatar_config;
  for (const v of [a?.body_type, a?.primary_color, a?.secondary_color, a?.custom_model_url]) {
    if ((v?.length ?? 0) > PRESENCE_LIMITS.text) return `avatar_config fields must be at most ${PRESENCE_LIMITS.text} characters`;
  }
  return undefined;
}

/** Applies presence fields to the sender's player entry and tells the room (PRESENCE_UPDATE). */
function updatePresence(ctx: HandlerContext, data: PresenceData): void {
  const { conn, room, out, ref } = ctx;
  const bad = invalid(data);
  if (bad) return out.error(conn, ErrorCode.BAD_MESSAGE, bad, ref);
  const fields: Partial<Player> = {
    display_name: data.display_name,
    avatar_url: data.avatar_url,
    avatar_config: data.avatar_config as AvatarConfig | undefined,
    position: data.position,
    rotation: data.rotation,
  };
  const current = room.world.players.get(conn.clientId);
  if (!current) return;
  const tooBig = room.world.checkPlayer(current, fields);
  if (tooBig) return out.error(conn, ErrorCode.LIMIT_EXCEEDED, tooBig, ref);
  const before: Partial<Player> = {};
  for (const k of Object.keys(fields) as (keyof Player)[]) before[k] = current[k] as never;
  const player = room.world.updatePlayer(conn.clientId, fields, ctx.now)!;
  const applied = { ...player };
  const undo = () => {
    const p = room.world.players.get(conn.clientId);
    if (!p) return;
    const back: Partial<Player> = {};
    for (const k of Object.keys(before) as (keyof Player)[]) if (p[k] === applied[k] && fields[k] !== undefined && fields[k] !== "") back[k] = before[k] as never;
    room.world.restorePlayer(conn.clientId, back, ctx.now);
  };
  if (data.display_name) conn.displayName = data.display_name;
  out.reliable(room, {
    type: MessageType.PRESENCE_UPDATE,
    payload: "presence_event",
    presence_event: {
      client_id: conn.clientId,
      event_type: PresenceEventType.UPDATE,
      data: { display_name: player.display_name, avatar_url: player.avatar_url, position: player.position, rotation: player.rotation, avatar_config: player.avatar_config },
    },
  }, { sender: conn, ref, change: { players: ctx.services.replication.players([player]) }, undo });
}

/**
 * CLIENT_HELLO after connect: updates display name and avatar (broadcast as PRESENCE_UPDATE),
 * and may turn on acknowledged delivery. The connection's client id is fixed at upgrade; a
 * different `client_id` here is ignored.
 */
export const clientHelloHandler: MessageHandler<"client_hello"> = {
  kind: "client_hello",
  handle(ctx, _msg, hello) {
    const { conn, out, ref } = ctx;
    if (hello.requested_room && hello.requested_room !== ctx.room.id) {
      return out.error(conn, ErrorCode.BAD_MESSAGE, `requested_room ${hello.requested_room} is not this room`, ref);
    }
    const presence = () => {
      if (hello.display_name || hello.avatar_url || hello.avatar_config) {
        updatePresence(ctx, { display_name: hello.display_name, avatar_url: hello.avatar_url, avatar_config: hello.avatar_config });
      }
    };
    // Batches (docs/protocol.md, "Batches and interest"); xr connections get single frames.
    if (hello.batch && conn.format !== "xr") conn.batch = true;
    // xr frames carry no seq to acknowledge: an xr connection's `reliable` is ignored.
    if (!hello.reliable || conn.reliable || conn.format === "xr") return presence();
    // Acknowledged delivery from now on: a fresh hello carries the new session.
    void then(ctx.services.sessions.enable(conn), (ok) => {
      if (conn.isClosed) return;
      if (!ok) return out.error(conn, ErrorCode.CONFLICT, "Could not start a session for this client id", ref);
      conn.reliable = true;
      ctx.services.acks.track(conn, ctx.room.epoch, ctx.room.seq);
      ctx.services.hello(conn);
      presence();
    });
  },
};

/** PRESENCE_UPDATE from a client (JOIN and LEAVE are the server's to send). */
export const presenceHandler: MessageHandler<"presence_event"> = {
  kind: "presence_event",
  handle(ctx, msg, ev) {
    if (msg.type !== MessageType.PRESENCE_UPDATE) {
      return ctx.out.error(ctx.conn, ErrorCode.FORBIDDEN, "Only the server sends PRESENCE_JOIN and PRESENCE_LEAVE", ctx.ref);
    }
    updatePresence(ctx, ev.data ?? {});
  },
};
