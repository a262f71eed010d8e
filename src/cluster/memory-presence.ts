/**
 * The memory backend's presence store: members, world state, node liveness and sessions over
 * the broker's shared state.
 * @module
 */
import { decodeSession, encodeSession, validSessionId } from "./shared.ts";
import type { MemoryBroker, RoomPresence } from "./memory-broker.ts";
import type { BackendStatus, DeadNode, MemberInfo, NodeInfo, PresenceStore, SessionRecord } from "./types.ts";

/** Members, world state and node liveness over the broker's shared state. */
export class MemoryPresence implements PresenceStore {
  #closed = false;
  constructor(readonly broker: MemoryBroker, readonly nodeId: string) {}

  async addMember(m: MemberInfo): Promise<void> {
    this.broker.check();
    this.broker.presence(m.room_id, true).members.set(m.connection_id, { ...m });
  }
  async removeMember(room: string, connectionId: string): Promise<void> {
    this.#remove(room, "members", connectionId);
  }
  async members(room: string): Promise<MemberInfo[]> {
    this.broker.check();
    const p = this.broker.presence(room, false);
    return p ? [...p.members.values()].map((m) => ({ ...m })) : [];
  }
  async totalConnections(): Promise<number> {
    let sum = 0;
    for (const n of await this.nodes()) sum += n.connections;
    return sum;
  }

  async setPlayer(room: string, clientId: string, snapshot: Uint8Array): Promise<void> {
    this.broker.check();
    this.broker.presence(room, true).players.set(clientId, snapshot.slice());
  }
  async removePlayer(room: string, clientId: string): Promise<void> {
    this.#remove(room, "players", clientId);
  }
  async setEntity(room: string, entityId: string, ownerClientId: string, snapshot: Uint8Array): Promise<void> {
    this.broker.check();
    this.broker.presence(room, true).entities.set(entityId, { owner: ownerClientId, snapshot: snapshot.slice() });
  }
  async removeEntity(room: string, entityId: string): Promise<void> {
    this.#remove(room, "entities", entityId);
  }
  /** Deletes one member, player or entity of the room (dropping the room's presence once empty). */
  #remove(room: string, from: "members" | "players" | "entities", id: string): void {
    this.broker.check();
    const p = this.broker.presence(room, false);
    if (!p) return;
    p[from].delete(id);
    this.broker.tidy(room, p);
  }
  async world(room: string): Promise<{ players: Uint8Array[]; entities: Uint8Array[] }> {
    this.broker.check();
    const p = this.broker.presence(room, false);
    if (!p) return { players: [], entities: [] };
    return { players: [...p.players.values()], entities: [...p.entities.values()].map((e) => e.snapshot) };
  }

  #beaten = false;
  async heartbeat(node: NodeInfo): Promise<{ forgotten: boolean }> {
    this.broker.check();
    if (this.#closed) return { forgotten: false };
    const known = this.broker.registry.has(node.node_id);
    this.broker.registry.set(node.node_id, { ...node, last_heartbeat: this.broker.clock.now() });
    const forgotten = this.#beaten && !known;
    this.#beaten = true;
    return { forgotten };
  }
  async nodes(): Promise<NodeInfo[]> {
    this.broker.check();
    const cutoff = this.broker.clock.now() - this.broker.nodeTtlMs;
    return [...this.broker.registry.values()].filter((n) => n.last_heartbeat >= cutoff).map((n) => ({ ...n }));
  }

  async reapDeadNodes(): Promise<DeadNode[]> {
    this.broker.check();
    const b = this.broker;
    const cutoff = b.clock.now() - b.nodeTtlMs;
    const dead: DeadNode[] = [];
    for (const [id, info] of b.registry) {
      if (id === this.nodeId || info.last_heartbeat >= cutoff) continue;
      b.registry.delete(id); // the claim: synchronous, so exactly one caller gets it
      const report: DeadNode = { node_id: id, rooms: [] };
      for (const [room, p] of b.rooms) {
        const r = reapRoom(p, id);
        if (r) report.rooms.push({ room, ...r });
        b.tidy(room, p);
      }
      dead.push(report);
    }
    return dead;
  }

  async putSession(s: SessionRecord, ttlMs: number): Promise<void> {
    const { json, ttl } = encodeSession(s, ttlMs);
    this.broker.check();
    this.broker.putSession(s.id, json, ttl);
  }
  async getSession(id: string): Promise<SessionRecord | undefined> {
    if (!validSessionId(id)) return undefined;
    this.broker.check();
    const e = this.broker.session(id);
    return e && decodeSession(e.json);
  }
  async deleteSession(id: string): Promise<void> {
    if (!validSessionId(id)) return;
    this.broker.check();
    this.broker.sessions.delete(id);
  }

  status(): BackendStatus {
    return this.broker.status.get();
  }
  onStatus(cb: (s: BackendStatus) => void): void {
    this.broker.status.on((s) => {
      if (!this.#closed) cb(s);
    });
  }
  /**
   * Leaves the node registry at once when no member of this node remains (a graceful
   * shutdown); otherwise its entry stays so a survivor reaps what it left.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.broker.rooms.values()) for (const m of p.members.values()) if (m.node_id === this.nodeId) return;
    this.broker.registry.delete(this.nodeId);
  }
}

/** Removes `nodeId`'s members from one room, then the players and entities of clients left with none. */
function reapRoom(p: RoomPresence, nodeId: string): { members: MemberInfo[]; clients: string[]; entities: string[] } | null {
  const members: MemberInfo[] = [];
  for (const m of p.members.values()) if (m.node_id === nodeId) members.push(m);
  if (members.length === 0) return null;
  for (const m of members) p.members.delete(m.connection_id);
  const still = new Set<string>();
  for (const m of p.members.values()) still.add(m.client_id);
  const clients: string[] = [];
  for (const m of members) {
    if (still.has(m.client_id) || clients.includes(m.client_id)) continue;
    clients.push(m.client_id);
    p.players.delete(m.client_id);
  }
  const entities: string[] = [];
  for (const [eid, e] of p.entities) {
    if (clients.includes(e.owner)) {
      entities.push(eid);
      p.entities.delete(eid);
    }
  }
  return { members, clients, entities };
}
