/**
 * The cluster folder's shape: a memory-only server never loads ioredis (the Redis backend is
 * imported dynamically), and every file stays under the house limit of ~300 lines.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const DIR = new URL("../../src/cluster", import.meta.url).pathname;

/** Static imports of a file (`import … from`, `export … from`; not `import()`), comments removed. */
function staticImports(file: string): string[] {
  const code = readFileSync(file, "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  return [...code.matchAll(/^\s*(?:import|export)\s(?!type\b)[^;]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]!);
}

test("the memory backend and index.ts never import ioredis statically", () => {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith(".")) walk(resolve(dirname(file), spec));
      else packages.add(spec);
    }
  };
  walk(join(DIR, "index.ts"));
  expect(packages.has("ioredis")).toBe(false);
  expect([...seen].some((f) => f.endsWith("memory-broker.ts"))).toBe(true);
  expect([...seen].some((f) => /redis/.test(f.slice(DIR.length)))).toBe(false);
  // the Redis backend is one dynamic import away
  expect(readFileSync(join(DIR, "index.ts"), "utf8")).toMatch(/await import\("\.\/redis\.ts"\)/);
});

test("every file of src/cluster has at most 300 lines", () => {
  const long = readdirSync(DIR)
    .filter((n) => n.endsWith(".ts"))
    .map((n) => [n, readFileSync(join(DIR, n), "utf8").split("\n").length] as const)
    .filter(([, lines]) => lines > 301);
  expect(long).toEqual([]);
});
