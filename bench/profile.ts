/**
 * Summarises a V8 `.cpuprofile` (from `bun bench/run.ts --cpu-prof=DIR`): the functions with the
 * most self time, and the share of samples under each of our source folders.
 * Usage: bun bench/profile.ts <file.cpuprofile> [top=25]
 * @module
 */
import { readFileSync } from "node:fs";

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: bun bench/profile.ts <file.cpuprofile> [top]");
const prof = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const counts = new Map<number, number>();
for (const s of prof.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
const total = prof.samples.length;
const where = (n: Node) => {
  const u = n.callFrame.url.replace(/^file:\/\//, "");
  const m = /(src\/[^/]+|adapters|node_modules\/[^/]+|node:[a-z_/]+)/.exec(u);
  return m ? m[1] : u ? u.split("/").slice(-2).join("/") : "(native)";
};
const self = new Map<string, number>();
const areas = new Map<string, number>();
for (const [id, c] of counts) {
  const n = byId.get(id)!;
  const key = `${n.callFrame.functionName || "(anonymous)"} ${where(n)}:${n.callFrame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + c);
  areas.set(where(n), (areas.get(where(n)) ?? 0) + c);
}
const pct = (c: number) => `${((100 * c) / total).toFixed(1).padStart(5)} %`;
console.log(`${total} samples\n\nself time by function:`);
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25))) console.log(`${pct(c)}  ${k}`);
console.log("\nself time by place:");
for (const [k, c] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(c)}  ${k}`);
