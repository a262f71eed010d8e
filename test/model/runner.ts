/**
 * Runs one {@link Scenario} against a simulated cluster: three instances ({@link SimNode}) on
 * one manual-delivery MemoryBroker, one ManualClock, six SDK-like clients in one room. Between
 * commands pending async work settles, bus frames are released (unless held, stalled or in an
 * outage), and clients read and acknowledge. After the commands the bus heals and time runs
 * on until every resume window has closed and every dead instance has been reaped; then a
 * fresh probe joins each instance. The result is everything the oracle needs.
 * @module
 */
import { ManualClock } from "../../src/core/clock.ts";
import type { MemoryBroker } from "../../src/cluster/memory.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { ModelClient } from "./client.ts";
import { CLIENTS, NODES, RELIABLE_CLIENTS, type Cmd, type Scenario } from "./commands.ts";
import { logEntries, logHead, ReplyQueue, simBroker, SimNode, type LogRecord, type SimConn } from "./sim-node.ts";

/** The room every client joins. */
export const ROOM = "model";
/** Cluster timing of every run (the chaos run's values). */
export const HEARTBEAT_MS = 1000;
export const NODE_TTL_MS = 4000;
export const ACK_TIMEOUT_MS = 1000;
/** One tick of simulated time. */
const STEP_MS = 50;

/** After each action: the log head, and which clients the room may hear leave at that point. */
export interface Snapshot {
  head: number;
  at: number;
  leavable: Set<string>;
}

/** What a probe (a fresh plain client) saw on one instance after the run. */
export interface Probe {
  node: string;
  players: string[];
  entities: Map<string, string>;
  stats: string[];
  /** Whether its hello came at all. */
  hello: boolean;
}

/** Everything a run observed. */
export interface RunResult {
  scenario: Scenario;
  clients: ModelClient[];
  log: LogRecord[];
  snapshots: Snapshot[];
  /** Leaves delivered without a seq (outside the log), with whether the client was leavable then. */
  unsequencedLeaves: { about: string; at: number; leavable: boolean; to: string }[];
  /** Client id → whether it is connected at the end (expected in presence). */
  connectedAtEnd: Set<string>;
  /** Expected entities at the end (id → value of component `v`). */
  expectedEntities: Map<string, string>;
  probes: Probe[];
  windowMs: number;
  crashes: string[];
}

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

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
  readonly #holdUntil: number[] = [];
  #stallUntil = 0;
  #shuffleUntil = 0;
  #outageUntil = 0;
  readonly #rand: () => number;
  /** With `scenario.async`: the store's replies, let through once per pump round. */
  readonly #replies?: ReplyQueue;

  constructor(readonly scenario: Scenario) {
    this.broker = simBroker(this.clock, NODE_TTL_MS);
    this.#rand = prng(scenario.seed);
    if (scenario.async) this.#replies = new ReplyQueue();
    for (let i = 0; i < NODES; i++) {
      this.generation.push(0);
      this.#holdUntil.push(0);
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

  /** Whether the room may hear `c` leave now: no connection the (live) server holds, and its session over. */
  leavable(c: ModelClient): boolean {
    const held = (this.#conns.get(c.id) ?? []).some((k) => k.node.alive && k.serverOpen);
    if (held) return false;
    if (c.state === "idle") return true;
    if (c.state !== "dropped") return false;
    const from = this.#windowFrom.get(c.id) ?? c.droppedAt;
    return this.clock.now() >= from + this.scenario.windowMs - HEARTBEAT_MS - 200;
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

  /** Delivers the bus frames that may go now; returns whether any did. */
  #release(): boolean {
    const now = this.clock.now();
    if (now < this.#outageUntil || now < this.#stallUntil) return false;
    let moved = false;
    for (let guard = 0; guard < 10_000; guard++) {
      const held = this.broker.held().filter((h) => {
        const slot = this.slots.findIndex((s) => s?.nodeId === h.to);
        return slot < 0 || now >= this.#holdUntil[slot]!;
      });
      if (held.length === 0) break;
      const pick = now < this.#shuffleUntil ? held[Math.floor(this.#rand() * held.length)]! : held[0]!;
      this.broker.releaseHeld(pick.to, pick.from);
      moved = true;
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
    const a = this.#release();
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
      await this.pump();
      this.#autoResume();
      this.#snapshot();
    }
  }

  #due(): void {
    const now = this.clock.now();
    if (this.#outageUntil && now >= this.#outageUntil) {
      this.#outageUntil = 0;
      this.broker.setAvailable(true);
    }
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
    c.connect(node);
    const list = this.#conns.get(c.id) ?? [];
    list.push(c.conn as SimConn);
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
        if (cl!.state === "connected" || cl!.state === "connecting") cl!.leave();
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
        const conn = cl!.drop(cmd.late === 0) as SimConn | undefined;
        if (cmd.late === 0) this.#windowFrom.set(cl!.id, this.clock.now());
        else if (conn) {
          this.#windowFrom.set(cl!.id, this.clock.now() + cmd.late);
          this.#events.push({ at: this.clock.now() + cmd.late, run: () => conn.serverNotices(1006) });
        }
        break;
      }
      case "kill": {
        const node = this.slots[cmd.n % NODES];
        if (!node?.alive || this.slots.filter((s) => s?.alive).length < 2) break; // one instance always lives
        node.kill();
        for (const c of this.clients) {
          if ((c.conn as SimConn | undefined)?.node !== node) continue;
          c.drop(false);
          this.#windowFrom.set(c.id, this.clock.now());
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
      case "hold": {
        const until = this.clock.now() + cmd.ms;
        if (cmd.n < 0) this.#stallUntil = Math.max(this.#stallUntil, until);
        else this.#holdUntil[cmd.n % NODES] = Math.max(this.#holdUntil[cmd.n % NODES]!, until);
        break;
      }
      case "shuffle":
        this.#shuffleUntil = Math.max(this.#shuffleUntil, this.clock.now() + cmd.ms);
        break;
      case "outage":
        this.broker.setAvailable(false, "Simulated outage");
        this.#outageUntil = Math.max(this.#outageUntil, this.clock.now() + cmd.ms);
        if (cmd.lose) for (const s of this.slots) if (s) this.broker.discardHeld(s.nodeId);
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
    this.#stallUntil = this.#shuffleUntil = 0;
    this.#holdUntil.fill(0);
    if (this.#outageUntil) this.#outageUntil = this.clock.now();
    for (const c of this.clients) c.slow = false;
    if (!this.slots.some((s) => s?.alive)) this.slots[0] = this.#start(0);
    await this.pump();
    await this.tick(this.scenario.windowMs + NODE_TTL_MS + 3 * HEARTBEAT_MS + 4 * ACK_TIMEOUT_MS + 1000);
  }

  /** A fresh plain client on each live instance: its hello's players and entities, and the instance's stats. */
  async probe(): Promise<Probe[]> {
    const out: Probe[] = [];
    for (const node of this.slots) {
      if (!node?.alive) continue;
      const p = new ModelClient(`probe-${node.nodeId}`, ROOM, false, "json", () => this.clock.now());
      p.connect(node);
      for (let i = 0; i < 20 && p.hellos.length === 0; i++) {
        await this.tick(STEP_MS);
        p.read();
      }
      const h = p.hellos[0];
      const entities = new Map<string, string>();
      for (const e of h?.initial_state?.entities ?? []) entities.set(String(e.id), String((e.components as Record<string, string> | undefined)?.v ?? ""));
      const stats = (await this.#awaitPumping(node.roomStats(ROOM))).map((s) => s.client_id).sort();
      out.push({
        node: node.nodeId,
        hello: h !== undefined,
        players: (h?.initial_state?.players ?? []).map((x) => String(x.client_id)).sort(),
        entities,
        stats,
      });
      p.leave();
      await this.tick(STEP_MS * 4);
    }
    return out;
  }

  /** Waits for `p` while letting the store answer (its replies may be held by the sim). */
  async #awaitPumping<T>(p: Promise<T>): Promise<T> {
    let done = false;
    const r = p.finally(() => (done = true));
    for (let i = 0; i < 1000 && !done; i++) await this.pump();
    return r;
  }

  /** Everything observed (call after {@link settleAll} and {@link probe}). */
  result(probes: Probe[]): RunResult {
    const connectedAtEnd = new Set<string>();
    const expectedEntities = new Map<string, string>();
    for (const c of this.clients) {
      if (c.state !== "connected") continue;
      connectedAtEnd.add(c.id);
      for (const [e, v] of c.expectedEntities()) expectedEntities.set(e, v);
    }
    return {
      scenario: this.scenario,
      clients: this.clients,
      log: logEntries(this.broker, ROOM),
      snapshots: this.snapshots,
      unsequencedLeaves: this.unsequencedLeaves,
      connectedAtEnd,
      expectedEntities,
      probes,
      windowMs: this.scenario.windowMs,
      crashes: this.crashes,
    };
  }

  /** Stops every instance's timers. */
  async close(): Promise<void> {
    for (const s of this.slots) if (s?.alive) s.kill();
  }
}

/** Runs a whole scenario and returns what it observed. */
export async function runScenario(s: Scenario): Promise<RunResult> {
  const sim = new Sim(s);
  try {
    for (const cmd of s.cmds) await sim.run(cmd);
    await sim.settleAll();
    const probes = await sim.probe();
    return sim.result(probes);
  } finally {
    await sim.close();
  }
}
