/**
 * The fault run's verdict per guarantee, from what the clients observed (real servers have no
 * ground-truth log to read, so the room's entries are the union of what anyone received).
 *
 * - **lost**: an acknowledging client's life (fresh hello → deliberate close or the end) is
 *   owed every entry anyone saw with its hello's epoch and a seq above the hello's `last_seq` —
 *   not its own messages (chats from it, its presence, its entities' ops) and no one's errors —
 *   up to the end if it is still there, else up to the highest seq it processed. A plain
 *   client's connection may have no holes between the first and last seq it got.
 * - **own message delivered back**: a client got its own chat, join or entity op (e.g. when a
 *   gap in the room's order was filled from the log);
 * - **doubled**: one message processed twice in a life; **misordered**: on one connection, a
 *   seq arriving for the first time after a higher one; **seq reused**: one (epoch, seq) seen
 *   with two different messages.
 * - **unlogged**: a chat sent on a live connection that nobody got with a seq and whose sender
 *   got no ERROR naming it (it reached part of the room at most); not counted when the
 *   connection was cut within 500 ms after (it may never have reached the server).
 * - **false leave**: a PRESENCE_LEAVE for a client that had a connection, or was inside its
 *   resume window (acknowledging clients only), during the whole 2.5 s before anyone first got
 *   the leave; **leave count**: per acknowledging client, the leaves seen ≠ the sessions it ended.
 *   A deliberate leave made during a Redis stall on an instance killed before it could append
 *   it is lost with that instance (docs/delivery.md, "Known gaps"): the runner records it as a
 *   drop, as the cluster sees it, and its entities as uncertain.
 * - **presence / stats / world**: after the settle, each instance's fresh joiner sees exactly
 *   the connected clients and the owners' entities, and each instance's stats list them. An
 *   entity with an op whose outcome its owner could not learn (neither ACCEPTED nor refused, and
 *   its connection died: the SDK's OUTCOME_UNKNOWN) may be there or not — as in the model oracle.
 * @module
 */
import { MessageType } from "../../src/protocol/types.ts";
import type { Arrival, Life, ModelClient } from "../model/client.ts";
import { typeName } from "../model/oracle.ts";

/** What happened to a client, when (ms): for the leave rule. */
export interface TimelineEvent {
  t: number;
  id: string;
  /** `failed`: the connection opened last was closed before its hello (it never got in). */
  ev: "open" | "leave" | "drop" | "failed";
}

/** One instance after the settle. */
export interface ProbeResult {
  node: string;
  hello: boolean;
  players: string[];
  entities: Map<string, string>;
  stats: string[];
}

export interface ChaosObservations {
  clients: ModelClient[];
  timeline: TimelineEvent[];
  windowMs: number;
  probes: ProbeResult[];
  connectedAtEnd: Set<string>;
  expectedEntities: Map<string, string>;
  /** Entities with an op whose outcome its client could not learn (its connection died first): either way is right. */
  uncertainEntities: Set<string>;
  /** Instances that could not be started again (the run went on with a workaround). */
  restartFailures: string[];
}

/** One guarantee's verdict. */
export interface Verdict {
  guarantee: string;
  count: number;
  /** The first few cases, human-readable. */
  examples: string[];
}

type Entry = { epoch: number; seq: number; id: string; type: number; about: string };

const ownerOf = (entity: string) => /^e-(.+)-\d+$/.exec(entity)?.[1] ?? "";

/** Whether `e` is the client's own message (never delivered back to it). */
function own(e: Entry, me: string): boolean {
  if (e.id.startsWith(`${me}-`)) return true; // the client's own message id (the SDK's `<client id>-<n>`)
  switch (e.type) {
    case MessageType.CHAT_MESSAGE:
    case MessageType.PRESENCE_JOIN:
    case MessageType.ENTITY_SPAWN:
      return e.about === me;
    case MessageType.ENTITY_UPDATE:
    case MessageType.ENTITY_DESPAWN:
      return ownerOf(e.about) === me; // a despawn by the server (owner gone) is not owed to the owner either
    case MessageType.ERROR:
      return true; // errors go to one client only
    default:
      return false;
  }
}

const show = (e: Entry | undefined, key: string) => (e ? `${key} ${typeName(e.type)} ${e.id}${e.about ? ` (${e.about})` : ""}` : key);

/** Every verdict of a run (count 0 = held). */
export function verdicts(o: ChaosObservations): Verdict[] {
  const v = (guarantee: string): Verdict => ({ guarantee, count: 0, examples: [] });
  const echo = v("own message delivered back");
  const lost = v("lost (acknowledging clients)"), holes = v("lost (plain clients, holes)"), doubled = v("doubled"), misordered = v("misordered");
  const reused = v("seq reused"), unlogged = v("unlogged (partial delivery, no ERROR)"), falseLeave = v("false leaves"), leaveCount = v("leave count ≠ ended sessions");
  const presence = v("presence converged"), stats = v("stats converged"), world = v("world converged");
  const restart = v("instances restart");
  const add = (x: Verdict, n: number, ex: string) => {
    x.count += n;
    if (x.examples.length < 5) x.examples.push(ex);
  };
  for (const f of o.restartFailures) add(restart, 1, f);

  // The room's entries: the union of what anyone got.
  const entries = new Map<string, Entry>();
  const heads = new Map<number, number>();
  for (const c of o.clients) {
    for (const life of c.lives) {
      for (const a of life.raw.flat()) {
        const key = `${a.epoch}:${a.seq}`;
        const known = entries.get(key);
        if (known && known.id !== a.id) add(reused, 1, `${key}: ${known.id} and ${a.id}`);
        else entries.set(key, { epoch: a.epoch, seq: a.seq, id: a.id, type: a.type, about: a.about });
        heads.set(a.epoch, Math.max(heads.get(a.epoch) ?? 0, a.seq));
      }
    }
  }
  const sequencedKeys = new Set<string>();
  for (const c of o.clients) for (const a of c.lives.flatMap((l) => l.raw.flat())) sequencedKeys.add(a.key);

  for (const c of o.clients) {
    c.lives.forEach((life, i) => {
      const onAtEnd = i === c.lives.length - 1 && !life.ended && o.connectedAtEnd.has(c.id);
      checkLife(c.id, life, onAtEnd, entries, heads, (n, ex) => add(life.reliable ? lost : holes, n, ex));
      const seen = new Map<string, number>();
      for (const a of life.processed) seen.set(a.id, (seen.get(a.id) ?? 0) + 1);
      for (const a of life.raw.flat()) {
        const e = entries.get(`${a.epoch}:${a.seq}`);
        if (e && e.type !== MessageType.ERROR && e.type !== MessageType.PRESENCE_UPDATE && own(e, c.id)) add(echo, 1, `${c.id} got its own ${show(e, `${a.epoch}:${a.seq}`)}`);
      }
      for (const [id, n] of seen) if (n > 1) add(doubled, 1, `${c.id} processed ${id} ${n} times`);
      for (const conn of life.raw) {
        const firstSeen = new Set<string>();
        let top = 0, epoch = -1;
        for (const a of conn) {
          if (a.epoch !== epoch) (top = 0), (epoch = a.epoch);
          const key = `${a.epoch}:${a.seq}`;
          const before = life.processed.some((p) => p.seq === a.seq && p.epoch === a.epoch && p.at < a.at);
          const mine = entries.get(key);
          if (a.seq < top && !firstSeen.has(key) && !before && !(mine && own(mine, c.id))) add(misordered, 1, `${c.id} got ${show(entries.get(key), key)} after seq ${top}`);
          firstSeen.add(key);
          top = Math.max(top, a.seq);
        }
      }
    });
    const cuts = o.timeline.filter((e) => e.id === c.id && e.ev === "drop").map((e) => e.t);
    for (const [id, s] of c.sent) {
      if (s.kind !== "chat_message" || sequencedKeys.has(s.key) || c.refused.has(id) || c.accepts.has(id)) continue;
      // Lost with its sender's connection or instance and seen by nobody: allowed (nobody could tell it).
      if (s.conn !== c.conn && !o.clients.some((x) => x.unsequenced.some((a) => a.key === s.key))) continue;
      // Sent just before its connection was cut: it may never have reached the server.
      if (cuts.some((t) => t >= s.at && t - s.at < 500)) continue;
      add(unlogged, 1, `${c.id}'s chat ${id} at ${new Date(s.at).toISOString()}`);
    }
  }

  checkLeaves(o, (n, ex) => add(falseLeave, n, ex), (n, ex) => add(leaveCount, n, ex));

  const wantEntities = [...o.expectedEntities].filter(([k]) => !o.uncertainEntities.has(k)).sort().map(([k, val]) => `${k}=${val}`).join(",");
  for (const p of o.probes) {
    const want = [...o.connectedAtEnd, `probe-${p.node}`].sort().join(",");
    if (!p.hello) add(presence, 1, `no SERVER_HELLO from ${p.node}`);
    else if (p.players.join(",") !== want) add(presence, 1, `${p.node}: players [${p.players}] ≠ connected [${want}]`);
    if (p.stats.join(",") !== want) add(stats, 1, `${p.node}: stats [${p.stats}] ≠ connected [${want}]`);
    const got = [...p.entities].filter(([k]) => !o.uncertainEntities.has(k)).sort().map(([k, val]) => `${k}=${val}`).join(",");
    if (p.hello && got !== wantEntities) add(world, 1, `${p.node}: entities [${got}] ≠ owners' [${wantEntities}]`);
  }
  return [lost, holes, doubled, misordered, echo, reused, unlogged, falseLeave, leaveCount, presence, stats, world, restart];
}

function checkLife(me: string, life: Life, onAtEnd: boolean, entries: Map<string, Entry>, heads: Map<number, number>, report: (n: number, ex: string) => void): void {
  const mine = life.processed.filter((a) => a.epoch === life.startEpoch);
  if (!life.reliable && mine.length === 0) return;
  const got = new Set(mine.map((a) => a.seq));
  const max = mine.reduce((m, a) => Math.max(m, a.seq), life.startSeq);
  const from = life.reliable ? life.startSeq : Math.min(...mine.map((a) => a.seq)) - 1;
  const to = life.reliable && onAtEnd ? (heads.get(life.startEpoch) ?? max) : max;
  const missing: string[] = [];
  for (let q = from + 1; q <= to; q++) {
    const key = `${life.startEpoch}:${q}`;
    const e = entries.get(key);
    // A PRESENCE_UPDATE may come from its subject or from the server (host changes): its sender is unknown here.
    if (e && e.type !== MessageType.PRESENCE_UPDATE && !own(e, me) && !got.has(q)) missing.push(show(e, key));
  }
  if (missing.length > 0) report(missing.length, `${me} (life from seq ${life.startSeq}) lost ${missing.length}, first: ${missing[0]}`);
}

function checkLeaves(o: ChaosObservations, falseLeave: (n: number, ex: string) => void, leaveCount: (n: number, ex: string) => void): void {
  // First receipt of each distinct leave message.
  const leaves = new Map<string, { about: string; t: number }>();
  for (const c of o.clients) {
    const all: Arrival[] = [...c.lives.flatMap((l) => l.raw.flat()), ...c.unsequenced];
    for (const a of all) {
      if (a.type !== MessageType.PRESENCE_LEAVE) continue;
      const key = a.id || `${a.about}@${a.at}`;
      const known = leaves.get(key);
      if (!known || a.at < known.t) leaves.set(key, { about: a.about, t: a.at });
    }
  }
  const byClient = new Map<string, TimelineEvent[]>();
  for (const e of o.timeline) {
    const events = byClient.get(e.id) ?? [];
    // An attempt that never got in changes nothing: its open and its failure are left out.
    if (e.ev === "failed") events.at(-1)?.ev === "open" && events.pop();
    else events.push(e);
    byClient.set(e.id, events);
  }
  const plain = new Set(o.clients.filter((c) => !c.reliable).map((c) => c.id));
  /** Whether the room may hear `id` leave at `t` (a plain client's connection has no resume window). */
  const leavable = (id: string, t: number): boolean => {
    let last: TimelineEvent | undefined;
    for (const e of byClient.get(id) ?? []) if (e.t <= t) last = e;
    if (!last || last.ev === "open") return false;
    return last.ev === "leave" || plain.has(id) || t >= last.t + o.windowMs - 1000;
  };
  const counts = new Map<string, number>();
  for (const { about, t } of leaves.values()) {
    if (!byClient.has(about)) continue; // probes
    counts.set(about, (counts.get(about) ?? 0) + 1);
    let ok = false;
    for (let tau = t - 2500; tau <= t && !ok; tau += 50) ok = leavable(about, tau);
    if (!ok) falseLeave(1, `PRESENCE_LEAVE ${about} first seen at ${new Date(t).toISOString()} while it was connected or inside its window`);
  }
  for (const [id, events] of byClient) {
    if (plain.has(id)) continue; // a plain client back before its leave was announced needs none
    let ended = 0;
    events.forEach((e, i) => {
      if (e.ev === "leave") ended++;
      else if (e.ev === "drop" && (events[i + 1]?.t ?? Infinity) > e.t + o.windowMs) ended++;
    });
    const seen = counts.get(id) ?? 0;
    if (seen !== ended) leaveCount(Math.abs(seen - ended), `${id}: ${seen} leaves for ${ended} ended sessions`);
  }
}

/** The verdicts as lines (✓ held, ✗ broken with examples). */
export function render(vs: Verdict[]): string {
  return vs.map((x) => (x.count === 0 ? `  ✓ ${x.guarantee}` : `  ✗ ${x.guarantee}: ${x.count}\n${x.examples.map((e) => `      ${e}`).join("\n")}`)).join("\n");
}
