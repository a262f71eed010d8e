/**
 * Per-room numbers with bounded cardinality: the busiest `max` rooms keep their own entry and
 * every other room is summed into one aggregate (`room="_other"` in Prometheus), so a server
 * with 10 000 rooms still exposes at most `max + 1` series per per-room metric.
 * @module
 */

/** The label value (and JSON key) of the aggregate of the rooms beyond the cap. */
export const OTHER_ROOM = "_other";

/** One room's numbers, as the hub knows them (plain values, no references to live objects). */
export interface RoomInput {
  id: string;
  /** Current members on this instance. */
  connections: number;
  messagesIn: number;
  /** Frames delivered to members (a broadcast to 9 peers counts 9). */
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Last inbound message or creation (epoch ms). */
  lastActivity: number;
}

/** The rooms beyond the cap, summed (`lastActivity`: the latest among them; `rooms`: how many). */
export type RoomAggregate = Omit<RoomInput, "id"> & { rooms: number };

/** {@link capRooms}'s result. */
export interface CappedRooms {
  /** At most `max` rooms, busiest first. */
  top: RoomInput[];
  /** The sum of the others; `null` when every room fit. */
  other: RoomAggregate | null;
  /** Number of rooms in the input. */
  total: number;
}

/** A room's activity: messages in plus messages out since it was created. */
export const roomActivity = (r: RoomInput): number => r.messagesIn + r.messagesOut;

/**
 * Keeps the `max` busiest rooms (by {@link roomActivity}, then members, then id, so the choice is
 * deterministic) and sums the rest. A real room named `_other` is always summed into the
 * aggregate, so the label value can never mean two things.
 *
 * Caveat for per-room *counters*: a room moving in or out of the top `max` (or being deleted when
 * empty) moves its counts between its own series and `_other`; Prometheus sees that as a
 * counter reset of `_other`. Rates over `_other` are approximate by nature.
 * @param max @default 100 (`METRICS_MAX_ROOMS`)
 */
export function capRooms(rooms: Iterable<RoomInput>, max = 100): CappedRooms {
  const named: RoomInput[] = [];
  const rest: RoomInput[] = [];
  for (const r of rooms) (r.id === OTHER_ROOM ? rest : named).push(r);
  const total = named.length + rest.length;
  named.sort((a, b) => roomActivity(b) - roomActivity(a) || b.connections - a.connections || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const keep = Math.max(0, Math.floor(max));
  const top = named.slice(0, keep);
  for (let i = keep; i < named.length; i++) rest.push(named[i]!);
  if (rest.length === 0) return { top, other: null, total };
  const other: RoomAggregate = { rooms: 0, connections: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, lastActivity: 0 };
  for (const r of rest) {
    other.rooms++;
    other.connections += r.connections;
    other.messagesIn += r.messagesIn;
    other.messagesOut += r.messagesOut;
    other.bytesIn += r.bytesIn;
    other.bytesOut += r.bytesOut;
    if (r.lastActivity > other.lastActivity) other.lastActivity = r.lastActivity;
  }
  return { top, other, total };
}
