/**
 * The core's CPU per inbound message, without sockets: the fan-out scenario (one sender,
 * N receivers, protobuf PositionUpdates with every 16th a ChatMessage) driven through the
 * core's Transport interface with transports that only keep the last frame
 * (bench/lib/core-load.ts). What the figure leaves out is the adapter and the kernel, so it
 * moves with changes to src/ and is far steadier than the fan-out bench on a shared machine.
 *
 * ```sh
 * bun bench/core.ts                                  # Bun, Node and Deno, this tree
 * bun bench/core.ts --ab=/work/wt/base               # this tree (A) and another (B), alternated
 * bun bench/core.ts --ab=../t1,../t2                 # A, B, C: e.g. snapshots of successive commits
 * bun bench/core.ts --runtimes=node --reps=5 --msgs=200000 --receivers=100 --chat-every=16
 * bun bench/core.ts --runtimes=bun --fanout=native  # publish counted, not looped: Bun's JavaScript only
 * ```
 * The workload is bundled per tree with esbuild (the other tree's `src/` is swapped in, its own
 * node_modules resolve), into .bench-tmp/. Each run is a fresh process: a warm-up, then
 * `--rounds` timed rounds; a run reports its fastest round (the one least disturbed by other
 * processes), and the table gives the median and range of those over `--reps` runs.
 * Figures: `wall` ns per message (only the synchronous handling, timed), `cpu` ns per message
 * of the whole process (user + system, GC and compiler threads included).
 * @module
 */
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const args = new Map(process.argv.slice(2).map((a) => {
  const [k, v] = a.replace(/^--/, "").split("=");
  return [k!, v ?? "1"] as const;
}));
const runtimes = (args.get("runtimes") ?? "bun,node,deno").split(",");
const reps = Number(args.get("reps") ?? 3);
const trees: [string, string][] = [["A", ROOT]];
for (const [i, dir] of (args.get("ab")?.split(",") ?? []).entries()) trees.push([String.fromCharCode(66 + i), resolve(dir)]);
const pass = ["msgs", "rounds", "receivers", "chat-every", "fanout"].filter((k) => args.has(k)).map((k) => `--${k}=${args.get(k)}`);

/** Bundles the workload with `root`'s src/ in place of this tree's. */
async function bundle(label: string, root: string): Promise<string> {
  const out = resolve(ROOT, `.bench-tmp/core-${label}.mjs`);
  mkdirSync(resolve(ROOT, ".bench-tmp"), { recursive: true });
  await build({
    entryPoints: [resolve(ROOT, "bench/lib/core-load.ts")], outfile: out, bundle: true, format: "esm",
    platform: "node", target: "node20", logLevel: "error",
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
    plugins: [{
      name: "tree",
      setup(b) {
        b.onResolve({ filter: /^(\.\.\/)+src\// }, (a) => {
          if (!a.importer.startsWith(resolve(ROOT, "bench"))) return undefined;
          const path = resolve(root, a.path.replace(/^(\.\.\/)+/, ""));
          // A module the other tree does not have yet (the workload checks what it exports).
          return existsSync(path) ? { path } : { path, namespace: "absent" };
        });
        b.onLoad({ filter: /.*/, namespace: "absent" }, () => ({ contents: "export {};", loader: "js" }));
      },
    }],
  });
  return out;
}

const cmd = (rt: string, file: string): [string, string[]] =>
  rt === "bun" ? ["bun", [file, ...pass]]
  : rt === "node" ? ["node", [file, ...pass]]
  : [resolve(ROOT, "node_modules/.bin/deno"), ["run", "-A", file, ...pass]];

const files = await Promise.all(trees.map(([l, r]) => bundle(l, r)));
const results = new Map<string, { wall: number[]; cpu: number[] }>();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.error(`load: ${execFileSync("uptime").toString().trim()}`);
for (let rep = 0; rep < reps; rep++) {
  for (const rt of runtimes) {
    trees.forEach(([label], i) => {
      const [bin, argv] = cmd(rt, files[i]!);
      const line = execFileSync(bin, argv, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!;
      const r = JSON.parse(line) as { wall: number[]; cpu: number[] };
      const key = `${rt} ${label}`;
      const acc = results.get(key) ?? { wall: [], cpu: [] };
      acc.wall.push(Math.min(...r.wall));
      acc.cpu.push(Math.min(...r.cpu));
      results.set(key, acc);
      console.error(`${key} rep ${rep + 1}: wall ${r.wall.join(" ")} | cpu ${r.cpu.join(" ")} ns/msg`);
    });
  }
}
console.error(`load: ${execFileSync("uptime").toString().trim()}`);
console.log(`| runtime | tree | wall ns/msg (median, range of ${reps}) | cpu ns/msg (median, range) |`);
console.log("|---|---|---|---|");
for (const [key, r] of results) {
  const [rt, label] = key.split(" ");
  const tree = trees.find(([l]) => l === label)![1];
  console.log(`| ${rt} | ${label} ${tree} | ${median(r.wall)} (${Math.min(...r.wall)}–${Math.max(...r.wall)}) | ${median(r.cpu)} (${Math.min(...r.cpu)}–${Math.max(...r.cpu)}) |`);
}
