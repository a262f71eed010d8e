/**
 * The guarantees, checked over one run's observations.
 *
 * **Entitlement.** A client's *life* runs from a fresh SERVER_HELLO (a new session, `resumed:
 * false`) to its deliberate close (1000), the close of its resume window, or the end of the run.
 * Resumes within the window — on any instance — continue the life. A life is owed every entry
 * of the room log with the hello's epoch and `seq > ` the hello's `last_seq`, except its own
 * messages and other clients' whispers and errors: all of them if the life is still on at the
 * end of the run (after the settle), else the ones up to the highest seq it processed (a client
 * that went away cannot be owed what came after; it may not have holes before). A plain client's
 * connection is owed the entries between the first and last seq it got (no holes). Checked:
 * - **lost**: owed, never processed (after the SDK's de-duplication);
 * - **doubled**: one message processed twice in a life;
 * - **echo**: a client got its own message back (the sender never receives it);
 * - **misordered**: on one connection, a seq arriving for the first time after a higher one
 *   (the SDK drops it as a duplicate: a loss, seen where it happens);
 * - **unlogged**: a reliable message a client sent on a live connection that is neither in the
 *   room log nor refused (ERROR) nor accepted (ACCEPTED) naming its message id, and that either
 *   reached part of the room outside the log or whose sender is still on that connection;
 * - **false leave**: a PRESENCE_LEAVE for a client appended (or, outside the log, delivered) while
 *   its session that joined last had not ended (it was connected or inside its resume window all
 *   along since that join — a leave that comes late for an ended session is fine);
 * - **double leave / missing leave**: per client, the log's PRESENCE_JOIN and PRESENCE_LEAVE
 *   alternate (one leave per session that ends), and a client gone at the end has left;
 * - **blip**: a PRESENCE_JOIN for an acknowledging client whose session went on (a resume);
 * - **lost entity**: an owner's update or despawn refused with NOT_FOUND (the server despawned
 *   an entity its owner never despawned);
 * - **convergence**: after the settle, each instance's fresh joiner sees exactly the connected
 *   players and the owners' entities, and each instance's stats list exactly the connected clients.
 * @module
 */
import { MessageType } from "../../src/protocol/types.ts";
import { keyOf, type Arrival, type Life, type ModelClient } from "./client.ts";
import type { RunResult } from "./runner.ts";
import type { LogRecord } from "./sim-node.ts";

/** One broken guarantee. */
export interface Violation {
  kind: "lost" | "doubled" | "misordered" | "unlogged" | "false-leave" | "double-leave" | "missing-leave" | "lost-entity" | "presence" | "world" | "stats" | "no-hello" | "crash" | "blip" | "echo";
  detail: string;
}

const describe = (e: LogRecord | undefined, seq: number): string =>
  e ? `seq ${seq} (${typeName(e.msg.type ?? 0)} ${e.msg.message_id}${e.sender ? ` from ${e.sender}` : ""})` : `seq ${seq}`;

export function typeName(t: number): string {
  return Object.entries(MessageType).find(([, v]) => v === t)?.[0] ?? String(t);
}

/** Whether log entry `e` is meant for `clientId`. */
const owedTo = (e: LogRecord, clientId: string) => e.sender !== clientId && (e.only === "" || e.only === clientId);

function checkLife(c: ModelClient, life: Life, onAtEnd: boolean, bySeq: Map<number, LogRecord>, head: number, out: Violation[]): void {
  const mine = life.processed.filter((a) => a.epoch === life.startEpoch);
  const got = new Set(mine.map((a) => a.seq));
  const max = mine.reduce((m, a) => Math.max(m, a.seq), life.startSeq);
  const from = life.reliable ? life.startSeq : Math.min(...mine.map((a) => a.seq)) - 1;
  const to = life.reliable && onAtEnd ? head : max;
  const lost: number[] = [];
  for (let q = from + 1; q <= to; q++) {
    const e = bySeq.get(q);
    if (e && e.epoch === life.startEpoch && owedTo(e, c.id) && !got.has(q)) lost.push(q);
  }
  if (lost.length > 0) {
    out.push({ kind: "lost", detail: `${c.id} (${life.reliable ? "ack" : "plain"}, life from seq ${life.startSeq}) lost ${lost.length}: first ${describe(bySeq.get(lost[0]!), lost[0]!)}` });
  }
  const echoed = life.raw.flat().find((a) => bySeq.get(a.seq)?.epoch === a.epoch && bySeq.get(a.seq)?.sender === c.id);
  if (echoed) out.push({ kind: "echo", detail: `${c.id} got its own ${describe(bySeq.get(echoed.seq), echoed.seq)}` });
  const seen = new Map<string, number>();
  for (const a of life.processed) seen.set(a.id, (seen.get(a.id) ?? 0) + 1);
  const doubled = [...seen].filter(([, n]) => n > 1);
  if (doubled.length > 0) out.push({ kind: "doubled", detail: `${c.id} processed ${doubled.length} messages twice: first ${doubled[0]![0]}` });
  for (const conn of life.raw) {
    const firstSeen = new Set<string>();
    let top = 0;
    let topEpoch = -1;
    for (const a of conn) {
      if (a.epoch !== topEpoch) (top = 0), (topEpoch = a.epoch);
      const key = `${a.epoch}:${a.seq}`;
      if (a.seq < top && !firstSeen.has(key) && !processedBefore(life, a)) {
        out.push({ kind: "misordered", detail: `${c.id} got ${describe(bySeq.get(a.seq), a.seq)} after seq ${top}` });
        break;
      }
      firstSeen.add(key);
      top = Math.max(top, a.seq);
    }
  }
}

/** Whether `a` was processed in this life before it arrived again (a resend or a replay). */
const processedBefore = (life: Life, a: Arrival) => life.processed.some((p) => p.seq === a.seq && p.epoch === a.epoch && p.at <= a.at);

/** Every broken guarantee of a run. */
export function check(r: RunResult): Violation[] {
  const out: Violation[] = r.crashes.map((c) => ({ kind: "crash" as const, detail: c }));
  const bySeq = new Map(r.log.map((e) => [e.seq, e]));
  const head = r.log.at(-1)?.seq ?? 0;
  const keys = new Set(r.log.map((e) => keyOf(e.msg)));
  for (const c of r.clients) {
    c.lives.forEach((life, i) => {
      const last = i === c.lives.length - 1;
      checkLife(c, life, last && !life.ended && c.state === "connected", bySeq, head, out);
    });
    for (const [id, s] of c.sent) {
      if (keys.has(s.key) || c.refused.has(id) || c.accepts.has(id)) continue;
      // Not in the log, not refused: wrong if part of the room got it, or if its sender is still
      // on the same connection and was never told (a sender whose connection or instance died
      // cannot be told; what it sent may then be lost, but must have reached nobody).
      const partial = r.clients.find((o) => o.unsequenced.some((a) => a.key === s.key));
      if (!partial && s.conn !== c.conn) continue;
      const why = partial ? `reached ${partial.id} outside the log` : "its sender, still connected, was never told";
      out.push({ kind: "unlogged", detail: `${c.id}'s ${s.kind} ${id} (t=${s.at}) is not in the room log and no ERROR named it: ${why}` });
      break;
    }
    // Only for an entity the room is known to have had (its spawn ACCEPTED): a spawn whose
    // fate the client could not learn (its instance died first) may have reached nobody.
    const nf = c.errors.find((e) => e.code === "NOT_FOUND" && c.entityOpsEver.has(e.ref) && c.spawnAccepted(c.opEntity.get(e.ref)?.entity ?? ""));
    if (nf) out.push({ kind: "lost-entity", detail: `${c.id}'s own entity op ${nf.ref} got NOT_FOUND (the server despawned an entity its owner never despawned)` });
  }
  checkLeaves(r, out);
  checkConvergence(r, out);
  return out;
}

function checkLeaves(r: RunResult, out: Violation[]): void {
  const snaps = r.snapshots;
  let k = 0;
  const last = new Map<string, "join" | "leave">();
  const lastJoin = new Map<string, number>();
  const reliable = new Set(r.clients.filter((c) => c.reliable).map((c) => c.id));
  for (const e of r.log) {
    const about = e.msg.presence_event?.client_id ?? "";
    if (!about.startsWith("c")) continue; // model clients only (not probes)
    if (e.msg.type === MessageType.PRESENCE_LEAVE) {
      while (k < snaps.length && snaps[k]!.head < e.seq) k++;
      // The leave belongs to the session that joined last: legit if that session had ended by the
      // time it was appended (it may come late, after an outage, and be followed by a new join).
      const from = lastJoin.get(about) ?? 0;
      let ended = snaps[k]?.leavable.has(about) ?? true;
      for (let i = k - 1; i >= 0 && !ended && snaps[i]!.head >= from; i--) ended = snaps[i]!.leavable.has(about);
      if (!ended) out.push({ kind: "false-leave", detail: `PRESENCE_LEAVE ${about} at seq ${e.seq} (t≈${snaps[k]?.at}) while ${about} was connected or inside its resume window` });
      if (last.get(about) !== "join") out.push({ kind: "double-leave", detail: `PRESENCE_LEAVE ${about} at seq ${e.seq} without a PRESENCE_JOIN before it (a second leave, or its join never reached the log)` });
      last.set(about, "leave");
    } else if (e.msg.type === MessageType.PRESENCE_JOIN) {
      // A second join is fine while the previous connection was still held (a plain client back
      // before the server noticed its drop); not when the previous session had ended unheard.
      const from = lastJoin.get(about);
      if (last.get(about) === "join" && from !== undefined) {
        if (snaps.some((s) => s.head >= from && s.head < e.seq && s.leavable.has(about))) {
          out.push({ kind: "missing-leave", detail: `PRESENCE_JOIN ${about} at seq ${e.seq}: its previous session (joined at seq ${from}) ended but the room never heard it leave` });
        } else if (reliable.has(about)) {
          out.push({ kind: "blip", detail: `PRESENCE_JOIN ${about} at seq ${e.seq} while its session (joined at seq ${from}) went on: a resume must not show as a join` });
        }
      }
      last.set(about, "join");
      lastJoin.set(about, e.seq);
    }
  }
  for (const l of r.unsequencedLeaves) {
    if (!l.leavable) out.push({ kind: "false-leave", detail: `PRESENCE_LEAVE ${l.about} outside the log to ${l.to} (t=${l.at}) while ${l.about} was connected or inside its resume window` });
  }
  for (const c of r.clients) {
    if (!r.connectedAtEnd.has(c.id) && last.get(c.id) === "join") out.push({ kind: "missing-leave", detail: `${c.id} is gone at the end but the room never heard it leave` });
  }
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function checkConvergence(r: RunResult, out: Violation[]): void {
  // Entities with an op whose fate nobody could learn (its connection died first) may go either way.
  const uncertain = new Set(r.clients.flatMap((c) => c.uncertainEntities()));
  const expectedEntities = [...r.expectedEntities].filter(([k]) => !uncertain.has(k)).sort().map(([k, v]) => `${k}=${v}`);
  for (const p of r.probes) {
    const probeId = `probe-${p.node}`;
    if (!p.hello) {
      out.push({ kind: "no-hello", detail: `a fresh joiner on ${p.node} got no SERVER_HELLO` });
      continue;
    }
    const want = [...r.connectedAtEnd, probeId].sort();
    if (!sameList(p.players, want)) out.push({ kind: "presence", detail: `players on ${p.node}: [${p.players}] ≠ connected [${want}]` });
    if (!sameList(p.stats, want)) out.push({ kind: "stats", detail: `stats on ${p.node}: [${p.stats}] ≠ connected [${want}]` });
    const got = [...p.entities].filter(([k]) => !uncertain.has(k)).sort().map(([k, v]) => `${k}=${v}`);
    if (!sameList(got, expectedEntities)) out.push({ kind: "world", detail: `entities on ${p.node}: [${got}] ≠ owners' [${expectedEntities}]` });
  }
}

/** A short text of the violations, one per line (first of each kind first). */
export function summary(v: Violation[]): string {
  return v.map((x) => `${x.kind}: ${x.detail}`).join("\n");
}
