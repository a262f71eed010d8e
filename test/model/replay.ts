/**
 * Replays one model scenario and shows what happened (developer tool, not part of the suite):
 *   bun test/model/replay.ts '<scenario JSON>'       (as printed by a failing run)
 *   bun test/model/replay.ts --case <n>              (a fixed case of cases.ts, 0-based)
 * Prints the violations, the room log (seq:type:sender→subject) and each client's lives.
 */
import { FIXED_CASES } from "./cases.ts";
import { check, summary, typeName } from "./oracle.ts";
import { runScenario } from "./runner.ts";

const i = process.argv.indexOf("--case");
const s = i >= 0 ? FIXED_CASES[Number(process.argv[i + 1])]!.scenario : JSON.parse(process.argv[2]!);
const r = await runScenario(s);
console.log(summary(check(r)) || "no violation");
console.log(r.log.map((e) => `${e.seq}:${typeName(e.msg.type ?? 0)}:${e.sender}${e.msg.presence_event ? `→${e.msg.presence_event.client_id}` : ""}`).join(" "));
for (const c of r.clients) {
  if (c.lives.length === 0 && c.state === "idle") continue;
  const lives = c.lives.map((l) => ({ session: l.key.slice(0, 8), from: l.startSeq, ended: l.ended, processed: l.processed.map((a) => a.seq).join(","), perConnection: l.raw.map((x) => x.map((a) => a.seq).join(",")), resumes: l.resumes }));
  console.log(c.id, c.state, JSON.stringify(lives), "server closes", JSON.stringify(c.serverCloses), "errors", JSON.stringify(c.errors));
}
