/**
 * The [design] rule: the parts under src/ depend one way — adapters → http → core →
 * {protocol, delivery, cluster, auth, limits, observability} → small primitives (lib/, log,
 * errors, config, version). Read from the source's own imports: a cycle between folders, or an
 * import against that direction, fails here with the files that make it.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(new URL("../../src", import.meta.url).pathname);
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });

/** The part a file belongs to: its folder under src/, or the top-level file itself. */
const partOf = (file: string) => relative(SRC, file).split("/")[0]!.replace(/\.ts$/, "");

/** Every relative import (static, type-only and dynamic) of every file, as part → part edges with the files behind them. */
function edges(): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  for (const f of files(SRC)) {
    const code = readFileSync(f, "utf8");
    for (const m of code.matchAll(/(?:from\s+|import\(\s*)["'](\.[^"']+)["']/g)) {
      const target = resolve(dirname(f), m[1]!);
      if (!target.startsWith(SRC)) continue;
      const [a, b] = [partOf(f), partOf(target)];
      if (a === b) continue;
      const to = out.get(a) ?? out.set(a, new Map()).get(a)!;
      (to.get(b) ?? to.set(b, []).get(b)!).push(relative(SRC, f));
    }
  }
  return out;
}

/** The cycles of a graph (each as a path), by depth-first search. */
function cycles(g: Map<string, Map<string, string[]>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, "open");
    stack.push(n);
    for (const m of g.get(n)?.keys() ?? []) {
      if (state.get(m) === "open") found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of g.keys()) if (!state.has(n)) visit(n);
  return found;
}

// Higher numbers may import lower ones, never the reverse (the client SDK stands apart).
const LEVEL: Record<string, number> = {
  lib: 0, log: 0, errors: 0, config: 0, version: 0, types: 0,
  protocol: 1, cluster: 1, auth: 1, limits: 1,
  observability: 2,
  delivery: 3,
  core: 4,
  http: 5,
  boot: 6,
  client: 2,
};

test("no import cycle between the folders under src/", () => {
  const g = edges();
  const found = cycles(g).map((c) => c.map((p, i) => (i < c.length - 1 ? `${p} (${g.get(p)!.get(c[i + 1]!)!.slice(0, 2).join(", ")})` : p)).join(" → "));
  expect(found).toEqual([]);
  expect(g.size).toBeGreaterThan(5);
});

test("dependencies point one way: adapters → http → core → {protocol, delivery, cluster…} → primitives", () => {
  const against: string[] = [];
  for (const [from, to] of edges()) {
    for (const [target, by] of to) {
      const [a, b] = [LEVEL[from], LEVEL[target]];
      if (a === undefined || b === undefined) against.push(`${from} → ${target}: a part without a level (add it to LEVEL)`);
      else if (b >= a) against.push(`${from} → ${target} (${by.join(", ")})`);
    }
  }
  expect(against).toEqual([]);
});

test("no part takes a hub: no service locator left in the core", () => {
  const offenders = files(SRC).filter((f) => /\bclass Hub\b|from\s+["'][^"']*\/hub\.ts["']|\bhub\s*:\s*Hub\b/.test(readFileSync(f, "utf8")));
  expect(offenders).toEqual([]);
});
