/**
 * The collection after a connect burst (src/lib/burst.ts, adapters/v8-memory.ts): when it runs,
 * and that on V8 it really gives memory back — the young generation shrinks and old space is
 * compacted — run on the real runtimes (Node from an esbuild bundle, Deno from the source); on
 * Bun, that the footprint shrink it relies on is there.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../src/config.ts";
import { BURST_OPENS, BURST_QUIET_MS, BurstWatch } from "../../src/lib/burst.ts";
import { memoryHub } from "../helpers/hub.ts";
import { runToEnd, type Outcome } from "../helpers/builds.ts";
import { BIN, ROOT } from "../helpers/server.ts";

describe("BurstWatch", () => {
  const watch = () => {
    const w = { n: 0, b: undefined as unknown as BurstWatch };
    w.b = new BurstWatch(() => w.n++);
    return w;
  };
  const open = (b: BurstWatch, k: number) => {
    for (let i = 0; i < k; i++) b.open();
  };

  test("collects once, at the first quiet tick after a burst of BURST_OPENS sockets", () => {
    const w = watch();
    open(w.b, BURST_OPENS);
    w.b.tick(); // sockets opened since the last tick: still a burst
    expect(w.n).toBe(0);
    w.b.tick();
    expect(w.n).toBe(1);
    w.b.tick();
    w.b.tick();
    expect(w.n).toBe(1);
  });

  test("a burst that goes on across ticks counts whole; fewer sockets never collect", () => {
    const w = watch();
    for (let i = 0; i < 10; i++) open(w.b, BURST_OPENS / 10), w.b.tick();
    w.b.tick();
    expect(w.n).toBe(1);
    open(w.b, BURST_OPENS - 1);
    w.b.tick();
    w.b.tick();
    expect(w.n).toBe(1);
  });

  test("steady arrivals with a quiet tick between them never make a burst", () => {
    const w = watch();
    for (let i = 0; i < 20; i++) open(w.b, 100), w.b.tick(), w.b.tick();
    expect(w.n).toBe(0);
  });
});

describe("the server runs the adapter's collector after a burst (core/server.ts)", () => {
  const burstOf = (config: Partial<Config>, collector: () => boolean) => {
    const calls = { n: 0 };
    const h = memoryHub(config, { collectGarbage: () => (calls.n++, collector()) });
    const run = () => {
      for (let i = 0; i < BURST_OPENS; i++) h.open(`room-${i % 10}`, `c${i}`);
      h.clock.advance(BURST_QUIET_MS); // still counting the burst's opens
      h.clock.advance(BURST_QUIET_MS); // quiet: collect
      h.clock.advance(10 * BURST_QUIET_MS); // and only once
    };
    return { h, calls, run, counted: () => h.hub.metrics.burstCollections };
  };

  // [case, config, what the collector answers, collector calls, collections counted, timers until stop()]
  test.each([
    ["once per burst, counted in the metrics; no more while quiet", {}, true, 1, 1, 1],
    ["COLLECT_AFTER_BURST=false: never (not even a timer)", { collectAfterBurst: false }, true, 0, 0, 0],
    ["a collector that could not run (Deno without --allow-sys) is not counted", {}, false, 1, 0, 1],
  ] as const)("%s", (_, config, answers, calls, counted, timers) => {
    const b = burstOf(config, () => answers);
    b.run();
    expect(b.calls.n).toBe(calls);
    expect(b.counted()).toBe(counted);
    expect(b.h.clock.pending).toBe(timers); // the burst's tick, and nothing when off
    b.h.hub.stop();
    expect(b.h.clock.pending).toBe(0); // and stop() leaves no timer behind
  });
});

describe("the collection on Bun (adapters/bun.ts)", () => {
  // The adapter calls Bun.shrink only where it exists (Bun's types mark it deprecated): should a
  // Bun release drop it, Bun's idle memory per connection goes back from ~3.8 to ~4.9 KiB
  // without an error anywhere (bench/ANALYSIS.md) — this says so first.
  test("the footprint shrink the adapter runs after a burst exists in this Bun, and a full collection with it throws nothing", async () => {
    expect(typeof (Bun as { shrink?: unknown }).shrink).toBe("function");
    const out = await runToEnd([process.execPath, "-e", "Bun.gc(true); Bun.shrink(); setTimeout(() => console.log('alive'), 50)"], {}, { cwd: ROOT, timeoutMs: 30_000 });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim()).toBe("alive");
  });
});

describe("collectReducingMemory on V8", () => {
  const dir = mkdtempSync(join(tmpdir(), "graphwiz-burst-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Long-lived objects promoted among garbage, as a connect burst leaves them; then one collection.
  const probe = join(dir, "probe.ts");
  writeFileSync(probe, `
import { getHeapSpaceStatistics } from "node:v8";
import { collectReducingMemory } from ${JSON.stringify(join(ROOT, "adapters/v8-memory.ts"))};
const keep = []; let junk = [];
for (let i = 0; i < 2_000_000; i++) { const o = { i, s: "x" + i }; if (i % 10 === 0) keep.push(o); else junk.push(o); if (junk.length > 200_000) junk = []; }
junk = [];
const size = () => Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
const before = size();
collectReducingMemory();
setTimeout(() => console.log(JSON.stringify({ before, after: size(), kept: keep.length })), 200);
`);
  const check = (out: Outcome) => {
    expect(out.code, out.stderr).toBe(0);
    const { before, after, kept } = JSON.parse(out.stdout);
    expect(kept).toBe(200_000);
    expect(before.new_space).toBeGreaterThan(8 * 2 ** 20);
    expect(after.new_space).toBeLessThan(before.new_space / 4); // the young generation given back
    expect(after.old_space).toBeLessThan(before.old_space * 0.7); // old space compacted
  };

  test("Node: the young generation shrinks and old space is compacted", async () => {
    const bundle = join(dir, "probe.mjs");
    const built = await runToEnd([BIN("esbuild"), probe, "--bundle", "--platform=node", "--format=esm", `--outfile=${bundle}`, "--log-level=error"], {}, { cwd: ROOT });
    expect(built.code, built.stderr).toBe(0);
    check(await runToEnd(["node", bundle], {}, { cwd: dir, timeoutMs: 60_000 }));
  }, 90_000);

  test("Deno with --allow-sys: the same; with deno task start's permissions it does nothing and throws nothing", async () => {
    check(await runToEnd([BIN("deno"), "run", "--allow-read", "--allow-sys", probe], {}, { cwd: dir, timeoutMs: 60_000 }));
    const narrow = await runToEnd([BIN("deno"), "run", "--allow-read", probe], {}, { cwd: dir, timeoutMs: 60_000 });
    expect(narrow.code, narrow.stderr).toBe(0);
    const { before, after } = JSON.parse(narrow.stdout);
    expect(after.new_space).toBe(before.new_space);
  }, 90_000);
});
