/**
 * Runs one {@link Scenario} against a simulated cluster: three instances ({@link SimNode}) on
 * one manual-delivery MemoryBroker, one ManualClock, six SDK-like clients in one room. Between
 * commands pending async work settles, bus frames are released (unless held, stalled or in an
 * outage), and clients read and acknowledge. After the commands the bus heals and time runs
 * on until every resume window has closed and every dead instance has been reaped; then a
 * fresh probe joins each instance. The result is everything the oracle needs.
 * @module
 */
import { ManualClock } from "../../src/lib/clock.ts";
import type { MemoryBroker } from "../../src/cluster/memory.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { BusControl, prng } from "./bus-control.ts";
import { ModelClient } from "./client.ts";
import { ACK_TIMEOUT_MS, CLIENTS, HEARTBEAT_MS, NODE_TTL_MS, NODES, RELIABLE_CLIENTS, ROOM, STEP_MS, type Cmd, type Scenario } from "./commands.ts";
import { probeAll, type Probe, type RunResult, type Snapshot } from "./observe.ts";
import { logHead, ReplyQueue, simBroker, SimNode, type SimConn } from "./sim-node.ts";

export { resultOf, runScenario, type Probe, type RunResult, type Snapshot } from "./observe.ts";

export { ACK_TIMEOUT_MS, HEARTBEAT_MS, NODE_TTL_MS, ROOM, STEP_MS } from "./commands.ts";

const settle = () => new Promise<void>((r) => setImmediate(r));
/** How long after an outage a leave waiting in an outbox may still be unappended (the heartbeat that finds the store back, then a sweep). */
const LEAVE_RETRY_MS = 1500;

/** One simulated cluster and its clients. */
export class Sim {
  readonly clock = new ManualClock();
  readonly broker: MemoryBroker;
  readonly slots: (SimNode | undefined)[] = [];
  readonly generation: number[] = [];
  readonly clients: ModelClient[] = [];
  readonly snapshots: Snapshot[] = [];
  readonly unsequencedLeaves: RunResult["unsequencedLeaves"] = [];
  /** Every connection ever opened, per client id (to tell whether the server still has one). */
  readonly #conns = new Map<string, SimConn[]>();
  /** From when each client's resume window runs (drop noticed, or its instance died). */
  readonly #windowFrom = new Map<string, number>();
  readonly #events: { at: number; run: () => void }[] = [];
  readonly bus: BusControl;
  /** With `scenario.async`: the store's replies, let through once per pump round. */
  readonly #replies?: ReplyQueue;

  constructor(readonly scenario: Scenario) {
    this.broker = simBroker(this.clock, NODE_TTL_MS);
    this.bus = new BusControl(this.broker, this.clock, prng(scenario.seed));
    if (scenario.async) this.#replies = new ReplyQueue();
    for (let i = 0; i < NODES; i++) {
      this.generation.push(0);
      // Instances start a third of a heartbeat apart, so their heartbeats do not all coincide.
      if (i > 0) this.clock.advance(Math.floor(HEARTBEAT_MS / NODES));
      this.slots.push(this.#start(i));
    }
    for (let i = 0; i < CLIENTS; i++) {
      this.clients.push(new ModelClient(`c${i}`, ROOM, i < RELIABLE_CLIENTS, i % 2 === 0 ? "json" : "protobuf", () => this.clock.now()));
    }
  }

  #start(slot: number): SimNode {
    const nodeId = `n${slot}g${this.generation[slot]!++}`;
    return new SimNode({
      broker: this.broker,
      clock: this.clock,
      nodeId,
      replies: this.#replies,
      config: {
        resumeWindowMs: this.scenario.windowMs,
        nodeHeartbeatMs: HEARTBEAT_MS,
        nodeTtlMs: NODE_TTL_MS,
        ackTimeoutMs: ACK_TIMEOUT_MS,
        slowConsumerSoftBytes: 8 * 1024,
        slowConsumerHardBytes: 256 * 1024,
      },
    });
  }

  /** The live instance at slot `n`, else the next live one. */
  node(n: number): SimNode | undefined {
    for (let i = 0; i < NODES; i++) {
      const s = this.slots[(n + i) % NODES];
      if (s?.alive) return s;
    }
    return undefined;
  }

  /**
   * Whether the room may hear `c` leave now: its latest connection not open on a live server,
   * and its session over. (A connection it abandoned — dropped, then replaced by a newer one —
   * may stay open on its server a while; a leave after the client closed the newer one is its own.)
   */
  leavable(c: ModelClient): boolean {
    const conns = this.#conns.get(c.id) ?? [];
    const open = (k: SimConn | undefined) => k !== undefined && k.node.alive && k.serverOpen;
    // A fresh connection still waiting for its hello is not a presence yet: a leave of the
    // session before it (ended deliberately, or expired) may still come — unless the server
    // still holds the connection before it (a drop it has not noticed yet).
    if (c.state === "connecting" && c.connectingFresh) return !open(conns.at(-2));
    if (open(conns.at(-1))) return false;
    if (c.state === "idle") return true;
    if (c.state !== "dropped") return false;
    if (c.reliable && !c.sessionId) return true; // dropped before any session began: nothing to resume
    // The window counts only time in which the store was reachable (a client cannot resume while it is not).
    const from = this.#windowFrom.get(c.id) ?? c.droppedAt;
    return this.bus.reachableSince(from) >= this.scenario.windowMs - HEARTBEAT_MS - 200;
  }

  #snapshot(): void {
    const leavable = new Set<string>();
    for (const c of this.clients) if (this.leavable(c)) leavable.add(c.id);
    this.snapshots.push({ head: logHead(this.broker, ROOM).seq, at: this.clock.now(), leavable });
  }

  /** Reads every client's socket (slow ones on their schedule) and records leaves that bypassed the log. */
  #readAll(): boolean {
    let moved = false;
    for (const c of this.clients) {
      const before = c.unsequenced.length;
      if (c.read() > 0) moved = true;
      for (const a of c.unsequenced.slice(before)) {
        if (a.type !== MessageType.PRESENCE_LEAVE) continue;
        const about = this.clients.find((x) => x.id === a.about);
        if (about) this.unsequencedLeaves.push({ about: a.about, at: a.at, leavable: this.leavable(about), to: c.id });
      }
    }
    return moved;
  }

  /** Lets async work settle, frames flow and clients read until nothing moves. */
  async pump(): Promise<void> {
    for (let i = 0; i < 100; i++) if (!(await this.#round())) break;
  }

  /** One round: settle, release bus frames, let store replies through, read. Returns whether anything moved. */
  async #round(): Promise<boolean> {
    await settle();
    const a = this.bus.release();
    await settle();
    const b = (this.#replies?.flush() ?? 0) > 0;
    await settle();
    const c = this.#readAll();
    return a || b || c;
  }

  /** Advances time in steps, running due events, pumping after each. */
  async tick(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.clock.advance(Math.min(STEP_MS, end - this.clock.now()));
      this.#due();
      // What the due events did (a drop noticed: its leave) before the pump lets anything else in.
      this.#snapshot();
      await this.pump();
      this.#autoResume();
      this.#snapshot();
    }
  }

  #due(): void {
    const now = this.clock.now();
    this.bus.due();
    for (;;) {
      const i = this.#events.findIndex((e) => e.at <= now);
      if (i < 0) break;
      this.#events.splice(i, 1)[0]!.run();
    }
  }

  /** The SDK reconnects after a server-side close (4101, 4104, …): resume on the next instance. */
  #autoResume(): void {
    for (const c of this.clients) {
      const last = c.serverCloses.at(-1);
      if (!c.reliable || c.state !== "dropped" || !last || last.at !== c.droppedAt) continue;
      if (this.clock.now() - last.at < 200) continue;
      const slot = this.slots.findIndex((s) => s === c.lastNode);
      const node = this.node((slot + 1 + NODES) % NODES);
      if (node) this.#connect(c, node);
    }
  }

  #connect(c: ModelClient, node: SimNode): void {
    const link = c.connect(node) as SimConn;
    const list = this.#conns.get(c.id) ?? [];
    list.push(link);
    this.#conns.set(c.id, list);
  }

  /** Exceptions that escaped the hub into the adapter (a crash in a real process). */
  readonly crashes: string[] = [];

  /** Runs one command; an exception out of the hub is recorded as a crash. */
  async run(cmd: Cmd): Promise<void> {
    try {
      await this.#run(cmd);
    } catch (e) {
      this.crashes.push(`${JSON.stringify(cmd)}: ${(e as Error).stack ?? e}`);
    }
  }

  async #run(cmd: Cmd): Promise<void> {
    const cl = "c" in cmd ? this.clients[cmd.c % CLIENTS]! : undefined;
    switch (cmd.k) {
      case "conn": {
        const node = this.node(cmd.n % NODES);
        if (node && (cl!.state === "idle" || cl!.state === "dropped")) this.#connect(cl!, node);
        break;
      }
      case "leave":
        if (cl!.state === "connected" || cl!.state === "connecting") {
          cl!.leave();
          // In an outage the leave waits in its instance's outbox until the log is back (and a sweep ran).
          const until = this.bus.outageUntil + LEAVE_RETRY_MS;
          if (cl!.leaveUnsure && this.clock.now() < this.bus.outageUntil) cl!.leaveUnsure.until = until;
          else cl!.leaveUnsure = undefined;
        }
        break;
      case "chat": {
        const to = cmd.w === undefined ? undefined : this.clients[cmd.w % CLIENTS]!.id;
        cl!.chat(to === cl!.id ? undefined : to);
        break;
      }
      case "entity":
        if (cl!.reliable) cl!.entity(cmd.op, cmd.p);
        break;
      case "move":
        cl!.move(this.clock.now() % 100);
        break;
      case "drop": {
        if (cl!.state !== "connected" && cl!.state !== "connecting") break;
        // A resume still connecting may or may not have reached the store: its window is the old one or this one, whichever ends first.
        const keep = cl!.state === "connecting" && this.#windowFrom.has(cl!.id);
        const conn = cl!.drop(cmd.late === 0) as SimConn | undefined;
        const from = (at: number) => this.#windowFrom.set(cl!.id, keep ? Math.min(at, this.#windowFrom.get(cl!.id)!) : at);
        if (cmd.late === 0) from(this.clock.now());
        else if (conn) {
          from(this.clock.now() + cmd.late);
          this.#events.push({ at: this.clock.now() + cmd.late, run: () => conn.serverNotices(1006) });
        }
        break;
      }
      case "kill": {
        const node = this.slots[cmd.n % NODES];
        if (!node?.alive || this.slots.filter((s) => s?.alive).length < 2) break; // one instance always lives
        node.kill();
        for (const c of this.clients) {
          const u = c.leaveUnsure;
          if (u && u.node === node && this.clock.now() < u.until) c.lostLeaves.push(...u.entities);
        }
        for (const c of this.clients) {
          if ((c.conn as SimConn | undefined)?.node !== node) continue;
          // A resume still connecting may never have reached the store: its window may be the old one.
          const connecting = c.state === "connecting" && this.#windowFrom.has(c.id);
          c.drop(false);
          this.#windowFrom.set(c.id, connecting ? Math.min(this.clock.now(), this.#windowFrom.get(c.id)!) : this.clock.now());
        }
        break;
      }
      case "restart": {
        const slot = cmd.n % NODES;
        if (this.slots[slot]?.alive) break;
        this.slots[slot] = this.#start(slot);
        break;
      }
      case "tick":
        await this.tick(cmd.ms);
        return;
      case "hold":
        this.bus.hold(cmd.n < 0 ? undefined : this.slots[cmd.n % NODES]?.nodeId ?? "", cmd.ms);
        break;
      case "shuffle":
        this.bus.shuffle(cmd.ms);
        break;
      case "outage":
        this.bus.outage(cmd.ms, cmd.lose, this.slots.flatMap((s) => (s ? [s.nodeId] : [])));
        // A leave still waiting in an outbox waits for this outage too.
        for (const c of this.clients) if (c.leaveUnsure && this.clock.now() < c.leaveUnsure.until) c.leaveUnsure.until = this.bus.outageUntil + LEAVE_RETRY_MS;
        break;
      case "slow":
        cl!.slow = cmd.on;
        break;
      case "step":
        await this.#round();
        break;
    }
    if (!cmd.q) await this.pump();
    this.#snapshot();
  }

  /** Heals the bus and lets every window close and every dead instance be reaped. */
  async settleAll(): Promise<void> {
    this.bus.heal();
    for (const c of this.clients) c.slow = false;
    if (!this.slots.some((s) => s?.alive)) this.slots[0] = this.#start(0);
    await this.pump();
    await this.tick(this.scenario.windowMs + NODE_TTL_MS + 3 * HEARTBEAT_MS + 4 * ACK_TIMEOUT_MS + 1000);
  }

  /** Waits for `p` while letting the store answer (its replies may be held by the sim). */
  async awaitPumping<T>(p: Promise<T>): Promise<T> {
    let done = false;
    const r = p.finally(() => (done = true));
    for (let i = 0; i < 1000 && !done; i++) await this.pump();
    return r;
  }

  /** A fresh plain client on each live instance: its hello's players and entities, and the instance's stats. */
  probe(): Promise<Probe[]> {
    return probeAll(this);
  }

  /** Stops every instance's timers. */
  async close(): Promise<void> {
    for (const s of this.slots) if (s?.alive) s.kill();
  }
}

