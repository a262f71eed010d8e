/**
 * The events of server messages that are not room state (chat, voice, reactions, moderation,
 * answers to your own sends): decoded payload → the event object the SDK emits, with enums as
 * names and every field present.
 * @module
 */
import type { Accepted, ChatMessage, EmojiReaction, ErrorPayload, ModerationEvent, Pong, VoiceData } from "../protocol/types.ts";
import type { AcceptedEvent, ChatEvent, ModerationNotice, PongEvent, ReactionEvent, ServerError, VoiceEvent } from "./events.ts";
import { set, vec } from "./shapes.ts";

const CHAT_TYPES = ["NORMAL", "WHISPER", "SHOUT"] as const;
const CODECS = ["OPUS", "PCMU", "PCMA"] as const;
const ACTIONS = ["KICK", "MUTE", "UNMUTE", "LOCK", "UNLOCK"] as const;

export const chatEvent = (c: ChatMessage, messageId = ""): ChatEvent => ({
  from_client_id: c.from_client_id ?? "", message: c.message ?? "", type: CHAT_TYPES[c.type ?? 0] ?? "NORMAL",
  to_client_id: c.to_client_id ?? "", timestamp: c.timestamp ?? 0, message_id: messageId,
});

export const voiceEvent = (v: VoiceData): VoiceEvent => ({
  from_client_id: v.from_client_id ?? "", audio_data: v.audio_data ?? new Uint8Array(0), sequence_number: v.sequence_number ?? 0, codec: CODECS[v.codec ?? 0] ?? "OPUS",
});

export const pongEvent = (p: Pong, now: number): PongEvent => ({ client_time: p.client_time ?? 0, server_time: p.server_time ?? 0, rtt_ms: now - (p.client_time ?? 0) });

export const serverError = (e: ErrorPayload): ServerError => ({
  code: e.code ?? "", message: e.message ?? "", ref_message_id: e.ref_message_id ?? "", retry_after_ms: e.retry_after_ms ?? 0, close_code: e.close_code ?? 0,
});

export const acceptedEvent = (a: Accepted): AcceptedEvent => ({ ref_message_id: a.ref_message_id ?? "", seq: Number(a.seq ?? 0), epoch: a.epoch ?? 0 });

export function reactionEvent(r: EmojiReaction): ReactionEvent {
  const ev: ReactionEvent = { from_client_id: r.from_client_id ?? "", emoji: r.emoji ?? "", reaction_id: r.reaction_id ?? "", timestamp: r.timestamp ?? 0 };
  if (set(r.position)) ev.position = vec(r.position!);
  return ev;
}

export const moderationNotice = (m: ModerationEvent, self: string | undefined): ModerationNotice => ({
  action: ACTIONS[m.action ?? 0] ?? "KICK", target_client_id: m.target_client_id ?? "", by_client_id: m.by_client_id ?? "", reason: m.reason ?? "",
  self: !!m.target_client_id && m.target_client_id === self,
});
