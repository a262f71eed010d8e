/**
 * Typed message routing: one {@link MessageHandler} per payload case, looked up in a table.
 * Adding a message kind is one handler and one line in {@link defaultHandlers}.
 * @module
 */
import type { Connection } from "../core/connection.ts";
import type { Hub } from "../core/hub.ts";
import type { Format, Room } from "../core/room.ts";
import { ErrorCode } from "../errors.ts";
import type { Envelope, PayloadCase, Payloads } from "./types.ts";
import { ackHandler } from "./handlers/ack.ts";
import { chatHandler } from "./handlers/chat.ts";
import { entityDespawnHandler, entitySpawnHandler, entityUpdateHandler } from "./handlers/entity.ts";
import { emojiHandler, objectGrabHandler, objectReleaseHandler } from "./handlers/interaction.ts";
import { clientHelloHandler, presenceHandler } from "./handlers/presence.ts";
import { pingHandler, pongHandler } from "./handlers/ping.ts";
import { positionHandler } from "./handlers/position.ts";
import { refreshHandler } from "./handlers/refresh.ts";
import { voiceHandler } from "./handlers/voice.ts";

/** What a handler sees of the world while handling one message. */
export interface HandlerContext {
  readonly hub: Hub;
  readonly conn: Connection;
  readonly room: Room;
  /** Server time (ms) when the message arrived. */
  readonly now: number;
  /** The format the message arrived in (replies such as PONG use it). */
  readonly inFormat: Format;
}

/** Handles one kind of message. */
export interface MessageHandler<K extends PayloadCase = PayloadCase> {
  readonly kind: K;
  handle(ctx: HandlerContext, msg: Envelope, payload: Payloads[K]): void;
}

/** The handlers every server registers. */
export function defaultHandlers(): MessageHandler[] {
  return [
    clientHelloHandler,
    positionHandler,
    voiceHandler,
    entitySpawnHandler,
    entityUpdateHandler,
    entityDespawnHandler,
    chatHandler,
    presenceHandler,
    pingHandler,
    pongHandler,
    refreshHandler,
    ackHandler,
    emojiHandler,
    objectGrabHandler,
    objectReleaseHandler,
  ] as MessageHandler[];
}

/** Dispatches envelopes to handlers by payload case. */
export class Router {
  readonly #handlers = new Map<PayloadCase, MessageHandler>();

  constructor(handlers: MessageHandler[] = defaultHandlers()) {
    for (const h of handlers) this.register(h);
  }

  /** Adds (or replaces) the handler of `handler.kind`. */
  register(handler: MessageHandler): void {
    this.#handlers.set(handler.kind, handler);
  }

  /** Routes one decoded message; unknown kinds get a BAD_MESSAGE error. Never throws. */
  dispatch(ctx: HandlerContext, msg: Envelope): void {
    const kind = msg.payload;
    const handler = kind && this.#handlers.get(kind);
    if (!handler) {
      ctx.hub.sendError(ctx.conn, ErrorCode.BAD_MESSAGE, `Clients may not send ${kind ?? "an empty"} messages`, msg.message_id);
      return;
    }
    try {
      handler.handle(ctx, msg, msg[kind] as never);
    } catch (e) {
      ctx.hub.log.error("handler_error", { kind, connection: ctx.conn.id, message: (e as Error).message });
      ctx.hub.sendError(ctx.conn, ErrorCode.BAD_MESSAGE, `Could not handle ${kind}`, msg.message_id);
    }
  }
}
