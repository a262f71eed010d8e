/**
 * The room's host (GraphWiz-XR's `host_client_id`): the longest-present player — the smallest
 * `joined_at`, ties broken by client id. Computed from the players every instance of a cluster
 * shares (joins carry `joined_at` in PRESENCE_JOIN and in the stored player snapshot), so every
 * instance names the same host without any election traffic. Told to clients in SERVER_HELLO,
 * in every PRESENCE_JOIN / PRESENCE_LEAVE (`data.host_client_id`), and — when the host leaves —
 * announced as a PRESENCE_UPDATE of the new host.
 * @module
 */
import { MessageType, PresenceEventType, type Envelope, type PresenceEvent } from "../protocol/types.ts";
import type { Player, World } from "./world.ts";

/**
 * The `joined_at` of a player joining now: the time, but always after every player already in
 * the room, so joins within one millisecond keep their order (and the host stays the first).
 */
export function joinTime(world: World, now: number): number {
  let last = 0;
  for (const p of world.players.values()) if ((p.joined_at ?? 0) > last) last = p.joined_at!;
  return Math.max(now, last + 1);
}

/** The host among `players` ("" when there are none). */
export function hostAmong(players: Iterable<Pick<Player, "client_id" | "joined_at">>): string {
  let best: Pick<Player, "client_id" | "joined_at"> | undefined;
  for (const p of players) {
    // A player whose join time is unknown (stored by an older instance) counts as the newest.
    const t = p.joined_at || Number.MAX_SAFE_INTEGER;
    const bt = best ? best.joined_at || Number.MAX_SAFE_INTEGER : 0;
    if (!best || t < bt || (t === bt && p.client_id < best.client_id)) best = p;
  }
  return best?.client_id ?? "";
}

/** The room's host now, or — with `gone` — before those players left. */
export function hostOf(world: World, gone: readonly Player[] = []): string {
  return gone.length === 0 ? hostAmong(world.players.values()) : hostAmong([...world.players.values(), ...gone]);
}

/** The PRESENCE_JOIN payload of a player who just joined (with the host after the join). */
export function joinEvent(world: World, clientId: string): PresenceEvent {
  const p = world.players.get(clientId);
  return {
    client_id: clientId,
    event_type: PresenceEventType.JOIN,
    data: { display_name: p?.display_name ?? "", joined_at: p?.joined_at ?? 0, host_client_id: hostOf(world) },
  };
}

/**
 * The PRESENCE_UPDATE that announces a new host, when `before` (the host before some players
 * left) is no longer the host and someone is left; undefined otherwise.
 */
export function hostChange(world: World, before: string): Envelope | undefined {
  const host = hostOf(world);
  if (!host || host === before) return undefined;
  const p = world.players.get(host)!;
  return {
    type: MessageType.PRESENCE_UPDATE,
    payload: "presence_event",
    presence_event: {
      client_id: host,
      event_type: PresenceEventType.UPDATE,
      data: { display_name: p.display_name ?? "", joined_at: p.joined_at ?? 0, host_client_id: host },
    },
  };
}
