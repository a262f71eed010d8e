/**
 * Typed message routing: one {@link MessageHandler} per payload case, looked up in a table.
 * Adding a message kind is one handler and one line in {@link defaultHandlers}.
 * @module
 */
import type { Acks } from "../delivery/acks.ts";
import type { AuthPolicy } from "../auth/policy.ts";
import { ErrorCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Envelope, Format, PayloadCase, Payloads } from "../protocol/types.ts";
import type { Broadcaster } from "./broadcast.ts";
import type { Connection } from "./connection.ts";
import { ackHandler } from "./handlers/ack.ts";
import { chatHandler } from "./handlers/chat.ts";
import { followHandler } from "./handlers/follow.ts";
import { entityDespawnHandler, entitySpawnHandler, entityUpdateHandler } from "./handlers/entity.ts";
import { emojiHandler, objectGrabHandler, objectReleaseHandler } from "./handlers/interaction.ts";
import { clientHelloHandler, presenceHandler } from "./handlers/presence.ts";
import { pingHandler, pongHandler } from "./handlers/ping.ts";
import { positionHandler } from "./handlers/position.ts";
import { refreshHandler } from "./handlers/refresh.ts";
import { voiceHandler } from "./handlers/voice.ts";
import type { Moderation } from "./moderation.ts";
import type { Replication } from "./replication.ts";
import type { Room } from "./room.ts";
import type { Sessions } from "./sessions.ts";

/** What handlers may use besides sending. */
export interface HandlerServices {
  readonly replication: Replication;
  readonly acks: Acks;
  readonly sessions: Sessions;
  readonly auth: AuthPolicy;
  readonly logger: Logger;
  /** Whether a client's voice is held back, and telling it so. */
  readonly moderation: Pick<Moderation, "isMuted" | "mutedVoice">;
  /** Sets (FOLLOW) or clears (UNFOLLOW) entities `conn` gets at full rate in batch mode. */
  follow(conn: Connection, ids: readonly string[], on: boolean): void;
  /** Sends `conn` a fresh SERVER_HELLO (after it turned on acknowledged delivery). */
  hello(conn: Connection): void;
}

/** What a handler sees while handling one message. */
export interface HandlerContext {
  readonly conn: Connection;
  readonly room: Room;
  /** Server time (ms) when the message arrived. */
  readonly now: number;
  /** The format the message arrived in (replies such as PONG use it). */
  readonly inFormat: Format;
  /** The client's own message id (its errors and ACCEPTED name it); "" when it gave none. */
  readonly ref: string;
  readonly out: Broadcaster;
  readonly services: HandlerServices;
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
    followHandler,
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
      ctx.out.error(ctx.conn, ErrorCode.BAD_MESSAGE, `Clients may not send ${kind ?? "an empty"} messages`, ctx.ref);
      return;
    }
    try {
      handler.handle(ctx, msg, msg[kind] as never);
    } catch (e) {
      ctx.services.logger.error("handler_error", { kind, connection: ctx.conn.id, message: (e as Error).message });
      ctx.out.error(ctx.conn, ErrorCode.BAD_MESSAGE, `Could not handle ${kind}`, ctx.ref);
    }
  }
}
