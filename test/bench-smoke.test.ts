/**
 * Smoke test of the benchmark harness: `bun bench/run.ts --smoke` (one tiny fan-out against our
 * Bun server and the raw Bun baseline, a few seconds) prints valid JSON lines with the expected
 * fields, and leaves no child process behind — also when interrupted with Ctrl-C (SIGINT).
 * No timing thresholds: the machine is shared and noisy.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { chatTemplate, patchSeq, positionTemplate, scanSeq } from "../bench/lib/pb.ts";
import { MessageProto } from "../src/protocol/proto.ts";

const ROOT = resolve(import.meta.dir, "..");

/** Live processes (pid and command line) whose environment carries BENCH_RUN_ID=id, but not `except`. */
function tagged(id: string, except = 0): string[] {
  const found: string[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === except) continue;
    try {
      if (!readFileSync(`/proc/${d}/environ`, "latin1").split("\0").includes(`BENCH_RUN_ID=${id}`)) continue;
      const cmd = readFileSync(`/proc/${d}/cmdline`, "latin1").split("\0").join(" ").trim();
      if (cmd) found.push(`${d} ${cmd.slice(0, 200)}`); // zombies have no command line
    } catch {}
  }
  return found;
}

async function leftovers(id: string): Promise<string[]> {
  // Children are killed as the runner exits; give the kernel a moment to reap them.
  for (let i = 0; i < 20; i++) {
    const pids = tagged(id);
    if (pids.length === 0) return [];
    await Bun.sleep(100);
  }
  return tagged(id);
}

function run(id: string, args: string[]) {
  return Bun.spawn([process.execPath, "bench/run.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, BENCH_RUN_ID: id },
    stdout: "pipe",
    stderr: "pipe",
  });
}

test("the load generator's frames are the schema's PositionUpdate / ChatMessage, and their sequence is found again", () => {
  for (const t of [positionTemplate(true), positionTemplate(false), chatTemplate()]) {
    const b = t.bytes.slice();
    patchSeq(t, b, 0, 123_456);
    const msg = MessageProto.toObject(MessageProto.decode(b)) as Record<string, any>;
    // Byte-identical to what protobufjs writes for the same message.
    expect([...MessageProto.encode(MessageProto.decode(b)).finish()]).toEqual([...b]);
    if (t.kind === "position") {
      expect(msg.type).toBe(10);
      expect(msg.position_update.sequence_number).toBe(0x1000_0000 + 123_456);
      expect(msg.position_update.entity_id ?? "").toBe("");
    } else {
      expect(msg.type).toBe(30);
      expect(msg.chat_message.message.startsWith(`seq:${(123_456).toString(16).padStart(8, "0")}`)).toBe(true);
    }
    expect(scanSeq(b, 0, b.length)).toBe(123_456);
    // As the server relays it: re-stamped id and time, its own entity id and sender.
    const relayed = MessageProto.decode(b) as any;
    relayed.message_id = "a1b2c3d4-7z";
    relayed.timestamp = Date.now();
    if (relayed.position_update) relayed.position_update.entity_id = "client-17";
    if (relayed.chat_message) relayed.chat_message.from_client_id = "client-17";
    const out = MessageProto.encode(relayed).finish();
    expect(scanSeq(out, 0, out.length)).toBe(123_456);
  }
});

const num = (x: unknown) => typeof x === "number" && Number.isFinite(x);

/** Rows of the last markdown table in `text` (the lines starting with `|`, after the header and rule). */
function lastTable(text: string): string[][] {
  const lines = text.trimEnd().split("\n");
  let end = lines.length;
  while (end > 0 && !lines[end - 1].startsWith("|")) end--;
  let start = end;
  while (start > 0 && lines[start - 1].startsWith("|")) start--;
  return lines.slice(start, end).map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
}

test("bench --smoke prints one JSON line per run, median and target, ends with a PASS/FAIL table, and stops every child", async () => {
  const id = `smoke-${crypto.randomUUID()}`;
  const out = resolve(ROOT, ".bench-tmp", `${id}.md`);
  const proc = run(id, ["--smoke", `--out=${out}`]);
  const [stdout, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) console.error(err);
  expect(code).toBe(0);
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
  const of = (type: string) => lines.filter((l) => l.type === type);

  const [meta] = of("meta");
  expect(meta.mode).toBe("smoke");
  expect(typeof meta.cpu).toBe("string");
  expect(meta.cores).toBeGreaterThan(0);
  for (const v of ["bun", "deno", "node"]) expect(typeof meta.versions[v]).toBe("string");

  const results = of("result");
  expect(results.map((r) => r.target).sort()).toEqual(["gw-bun", "raw-bun-publish"]);
  for (const r of results) {
    if (!r.ok) console.error(r);
    expect(r.ok).toBe(true);
    expect(r.scenario).toBe("fanout");
    for (const k of ["delivered_per_s", "delivered_per_cpu_s", "sent_per_s", "p50_ms", "p99_ms", "p999_ms", "server_cpu_pct", "server_rss_kib", "loadgen_cpu_pct", "foreign_cpu_pct", "lost"]) {
      expect(num(r[k])).toBe(true);
    }
    // The server relayed something (a functional check, not a timing threshold).
    expect(r.delivered).toBeGreaterThan(0);
  }

  const summaries = of("summary");
  expect(summaries.length).toBe(2);
  const ours = summaries.find((s) => s.target === "gw-bun");
  expect(ours.baseline).toBe("raw-bun-publish");
  expect(num(ours.ratio_to_baseline)).toBe(true);
  expect(num(ours.delivered_per_s_min) && num(ours.delivered_per_s_max)).toBe(true);

  const checks = of("check");
  expect(checks.length).toBeGreaterThan(5);
  for (const c of checks) expect(c.pass === null || typeof c.pass === "boolean").toBe(true);
  expect(checks.find((c) => c.id === "bun-fanout").pass).not.toBeNull();
  expect(of("done").length).toBe(1);

  // The report and the runner's last output both end with the verdict table: one row per target.
  for (const text of [readFileSync(out, "utf8"), err]) {
    const table = lastTable(text);
    expect(table[0]).toEqual(["target", "measured", "needed", "result"]);
    expect(table[1].every((c) => /^-+$/.test(c))).toBe(true);
    expect(table.slice(2).map((r) => r[0])).toEqual(checks.map((c) => c.text));
    for (const [row, c] of table.slice(2).map((r, i) => [r, checks[i]] as const)) {
      expect(row[3]).toBe(c.pass === null ? "not measured" : c.pass ? "PASS" : "FAIL");
    }
  }
  rmSync(out, { force: true });
  rmSync(out.replace(/\.md$/, ".jsonl"), { force: true });

  expect(await leftovers(id)).toEqual([]);
}, 120_000);

test("bench stops every child process on Ctrl-C", async () => {
  const id = `sigint-${crypto.randomUUID()}`;
  const proc = run(id, ["--smoke", "--set=measureMs=20000"]);
  // Wait until the load generator runs (so a server is up too), then interrupt.
  const loadgenUp = () => tagged(id, proc.pid).some((p) => p.includes("bench/loadgen.ts"));
  for (let i = 0; i < 300 && !loadgenUp(); i++) await Bun.sleep(50);
  expect(loadgenUp()).toBe(true);
  expect(tagged(id, proc.pid).some((p) => p.includes("adapters/bun.ts"))).toBe(true);
  proc.kill("SIGINT");
  expect(await proc.exited).toBe(130);
  expect(await leftovers(id)).toEqual([]);
}, 60_000);
