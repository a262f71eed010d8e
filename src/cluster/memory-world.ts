/**
 * The memory backend's world store and client claims over the broker's shared room state, and
 * {@link applyChange}, the room change of a log append (the Redis scripts do the same).
 * @module
 */
import type { MemoryBroker, RoomState } from "./memory-broker.ts";
import { dueKey, parseDueKey } from "./shared.ts";
import type { Claim, ClientClaims, DueHold, Holder, RoomChange, RoomSnapshot, WorldStore } from "./types.ts";

/**
 * Applies the change of an append to the room's state: `null` (nothing changed) when the guard
 * does not hold, else the entities a release removed that `change.despawn` did not name, and
 * whether the frames are appended (see `RoomChange.presence`).
 */
export function applyChange(broker: MemoryBroker, room: string, change: RoomChange): { orphans: string[]; announce: boolean } | null {
  const r = broker.room(room);
  const g = change.guard;
  if (g && g.user !== undefined && r.holders.get(g.clientId)?.user !== g.user) return null;
  if (g?.superseded) return applySuperseded(r, g.clientId, g.token);
  if (g) {
    const h = r.holders.get(g.clientId);
    if (!h || h.token !== g.token || (g.conn !== undefined && h.conn !== g.conn)) return null;
    if (g.detached && (h.detachedUntil === undefined || h.detachedUntil > broker.clock.now())) return null;
  }
  const orphans: string[] = [];
  const had = g ? r.players.has(g.clientId) : false;
  if (g && (change.release || change.reset)) {
    if (change.release) {
      r.holders.delete(g.clientId);
      r.superseded.delete(g.clientId);
      if (r.sessions.get(g.token) === g.clientId) r.sessions.delete(g.token);
      broker.due.delete(dueKey(room, g.clientId, g.token));
    }
    r.players.delete(g.clientId);
    const named = new Set(change.despawn);
    for (const [id, e] of r.entities) {
      if (e.owner !== g.clientId) continue;
      r.entities.delete(id);
      if (!named.has(id)) orphans.push(id);
    }
  }
  for (const [id, snap] of change.players ?? []) r.players.set(id, snap.slice());
  for (const [id, owner, snap] of change.entities ?? []) r.entities.set(id, { owner, snapshot: snap.slice() });
  for (const id of change.despawn ?? []) r.entities.delete(id);
  return { orphans, announce: !change.presence || had === (change.presence === "leave") };
}

/**
 * The late end of a session whose client id was taken over (see `RoomChange.guard.superseded`):
 * drops the entities the client owned at the takeover and still owns; `null` when the holder
 * took no such session over (or this end was applied already).
 */
function applySuperseded(r: RoomState, clientId: string, token: string): { orphans: string[]; announce: boolean } | null {
  const list = r.superseded.get(clientId) ?? [];
  const i = list.findIndex((s) => s.token === token);
  if (!r.holders.has(clientId) || i < 0) return null;
  const [s] = list.splice(i, 1);
  if (list.length === 0) r.superseded.delete(clientId);
  const orphans = s!.entities.filter((id) => r.entities.get(id)?.owner === clientId);
  for (const id of orphans) r.entities.delete(id);
  return { orphans, announce: false };
}

/** How many taken-over sessions a hold remembers. */
export const SUPERSEDED_KEPT = 4;

/**
 * What the new holder of `clientId` remembers of the sessions it took over: on a takeover by
 * another connection, the replaced token with the entities the client owns now, before what
 * the replaced holder remembered; on a resume or a connection moving its hold to a session,
 * the same as before; nothing for a free client id.
 */
function supersede(r: RoomState, clientId: string, cur: Holder | undefined, next: Holder): void {
  const kept = r.superseded.get(clientId) ?? [];
  r.superseded.delete(clientId);
  if (!cur) return;
  let list = kept;
  if (cur.token !== next.token && !(cur.conn !== undefined && cur.conn === next.conn)) {
    const owned = [...r.entities].filter(([, e]) => e.owner === clientId).map(([id]) => id);
    list = [...(owned.length > 0 ? [{ token: cur.token, entities: owned }] : []), ...kept].slice(0, SUPERSEDED_KEPT);
  }
  if (list.length > 0) r.superseded.set(clientId, list);
}

/** The world store over the broker's shared state. */
export class MemoryWorld implements WorldStore {
  constructor(readonly broker: MemoryBroker) {}

  load(room: string): RoomSnapshot {
    this.broker.check();
    const s = this.broker.logs.state(room, true)!;
    const r = this.broker.rooms.get(room);
    const holders = new Map<string, Holder>();
    for (const [id, h] of r?.holders ?? []) holders.set(id, { ...h });
    return {
      epoch: s.epoch,
      seq: s.seq,
      players: [...(r?.players.values() ?? [])],
      entities: [...(r?.entities.values() ?? [])].map((e) => e.snapshot),
      holders,
    };
  }

  async setPose(room: string, kind: "player" | "entity", id: string, snapshot: Uint8Array): Promise<void> {
    this.broker.check();
    const r = this.broker.rooms.get(room);
    if (!r) return;
    if (kind === "player") {
      if (r.players.has(id)) r.players.set(id, snapshot.slice());
    } else {
      const e = r.entities.get(id);
      if (e) e.snapshot = snapshot.slice();
    }
  }
}

/** Client claims over the broker's shared state. */
export class MemoryClaims implements ClientClaims {
  constructor(readonly broker: MemoryBroker) {}

  claim(room: string, clientId: string, holder: Holder, sessionId?: string): Claim {
    this.broker.check();
    const r = this.broker.room(room);
    const cur = r.holders.get(clientId);
    if (cur && !mayTake(cur, holder)) return { ok: false, holder: { ...cur } };
    if (cur && cur.token !== holder.token) {
      // The old hold (and its session) ends.
      if (r.sessions.get(cur.token) === clientId) r.sessions.delete(cur.token);
    }
    if (cur) this.broker.due.delete(dueKey(room, clientId, cur.token));
    // Every field from the start (undefined while unset): one object shape, no properties added or
    // deleted later (on V8 that costs a property array per holder — one per idle connection).
    const next: Holder = { user: holder.user, token: holder.token, node: holder.node, conn: holder.conn, detachedUntil: undefined };
    supersede(r, clientId, cur, next);
    r.holders.set(clientId, next);
    if (sessionId !== undefined) r.sessions.set(sessionId, clientId);
    this.broker.touchNodeRoom(holder.node, room);
    const previous = cur && (cur.token !== holder.token || cur.detachedUntil === undefined) ? { ...cur } : undefined;
    return previous ? { ok: true, previous } : { ok: true };
  }

  sessionClient(room: string, sessionId: string): string | undefined {
    this.broker.check();
    const r = this.broker.rooms.get(room);
    const clientId = r?.sessions.get(sessionId);
    return clientId !== undefined && r!.holders.get(clientId)?.token === sessionId ? clientId : undefined;
  }

  detach(room: string, clientId: string, token: string, conn: string, until: number): void {
    this.broker.check();
    const h = this.broker.rooms.get(room)?.holders.get(clientId);
    if (!h || h.token !== token || h.conn !== conn) return;
    h.detachedUntil = until;
    h.conn = undefined;
    this.broker.due.set(dueKey(room, clientId, token), until);
  }

  due(now: number, limit: number): DueHold[] {
    this.broker.check();
    const out: [number, DueHold][] = [];
    for (const [key, until] of this.broker.due) {
      const d = until <= now ? parseDueKey(key) : undefined;
      if (d) out.push([until, d]);
    }
    return out.sort((a, b) => a[0] - b[0]).slice(0, limit).map(([, d]) => d);
  }

  done(hold: DueHold): void {
    this.broker.check();
    const key = dueKey(hold.room, hold.clientId, hold.token);
    const until = this.broker.due.get(key);
    if (until !== undefined && until <= this.broker.clock.now()) this.broker.due.delete(key); // else: a newer window
  }
}

/**
 * Whether `next` may take a client id `cur` holds: the same session (its token is the secret;
 * the same user too), the same user (never two anonymous connections), or the same connection
 * moving its hold to a new session. The Redis claim script decides the same way.
 */
export function mayTake(cur: Holder, next: Holder): boolean {
  if (cur.token === next.token) return cur.user === next.user;
  return (cur.user !== null && cur.user === next.user) || (cur.conn !== undefined && cur.conn === next.conn);
}
