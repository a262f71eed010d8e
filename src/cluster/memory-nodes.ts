/**
 * The memory backend's member store and node registry over the broker's shared state.
 * @module
 */
import type { MemoryBroker } from "./memory-broker.ts";
import { dueKey } from "./shared.ts";
import type { DeadNode, MemberInfo, MemberStore, NodeInfo, NodeRegistry } from "./types.ts";

/** Members of every room, as the cluster lists them. */
export class MemoryMembers implements MemberStore {
  constructor(readonly broker: MemoryBroker, readonly nodeId: string) {}

  async add(m: MemberInfo): Promise<void> {
    this.broker.check();
    this.broker.room(m.room_id).members.set(m.connection_id, { ...m });
    this.broker.touchNodeRoom(m.node_id, m.room_id);
  }
  async remove(room: string, connectionId: string): Promise<void> {
    this.broker.check();
    this.broker.rooms.get(room)?.members.delete(connectionId);
  }
  async list(room: string): Promise<MemberInfo[]> {
    this.broker.check();
    return [...(this.broker.rooms.get(room)?.members.values() ?? [])].map((m) => ({ ...m }));
  }
}

/** Node liveness and the reaping of dead nodes. */
export class MemoryNodes implements NodeRegistry {
  #beaten = false;
  #closed = false;
  constructor(readonly broker: MemoryBroker, readonly nodeId: string) {}

  async heartbeat(node: NodeInfo, rooms: string[] = []): Promise<{ forgotten: boolean }> {
    this.broker.check();
    if (this.#closed) return { forgotten: false };
    const known = this.broker.registry.has(node.node_id);
    this.broker.registry.set(node.node_id, { ...node, last_heartbeat: this.broker.clock.now() });
    for (const room of rooms) this.broker.touchNodeRoom(node.node_id, room);
    const forgotten = this.#beaten && !known;
    this.#beaten = true;
    return { forgotten };
  }

  async nodes(): Promise<NodeInfo[]> {
    this.broker.check();
    const cutoff = this.broker.clock.now() - this.broker.nodeTtlMs;
    return [...this.broker.registry.values()].filter((n) => n.last_heartbeat >= cutoff).map((n) => ({ ...n }));
  }

  async reap(resumeWindowMs: number): Promise<DeadNode[]> {
    const b = this.broker;
    b.check();
    const now = b.clock.now();
    const cutoff = now - b.nodeTtlMs;
    const dead: DeadNode[] = [];
    for (const [id, info] of b.registry) {
      if (id === this.nodeId || info.last_heartbeat >= cutoff) continue;
      b.registry.delete(id); // the claim: synchronous, so exactly one caller gets it
      const report: DeadNode = { node_id: id, rooms: [] };
      for (const room of b.nodeRooms.get(id) ?? []) {
        const r = b.rooms.get(room);
        if (!r) continue;
        const members: MemberInfo[] = [];
        for (const [cid, m] of r.members) if (m.node_id === id) members.push(m), r.members.delete(cid);
        const departed: { clientId: string; token: string }[] = [];
        for (const [clientId, h] of r.holders) {
          if (h.node !== id || h.detachedUntil !== undefined) continue;
          if (r.sessions.get(h.token) === clientId) {
            // A session: its client may resume elsewhere within the window; the leave comes when it closes.
            h.detachedUntil = now + resumeWindowMs;
            h.conn = undefined;
            b.due.set(dueKey(room, clientId, h.token), h.detachedUntil);
          } else departed.push({ clientId, token: h.token });
        }
        if (members.length > 0 || departed.length > 0) report.rooms.push({ room, members, departed });
      }
      b.nodeRooms.delete(id);
      dead.push(report);
    }
    return dead;
  }

  /**
   * Leaves the registry at once when no member of this node remains (a graceful shutdown);
   * otherwise its entry stays so a survivor reaps what it left.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of this.broker.rooms.values()) for (const m of r.members.values()) if (m.node_id === this.nodeId) return;
    this.broker.registry.delete(this.nodeId);
  }
}
