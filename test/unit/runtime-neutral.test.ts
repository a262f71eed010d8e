/** House rule 3: the core under src/ never touches a runtime API. */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const SRC = new URL("../../src", import.meta.url).pathname;
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });

test("no Bun, Deno, process or node:* under src/", () => {
  const offenders: string[] = [];
  for (const f of files(SRC)) {
    const code = readFileSync(f, "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    if (/\bBun\.|\bDeno\.|\bprocess\.|\bprocess\b\s*\[|from\s+["']node:|import\(\s*["']node:|require\(\s*["']node:|from\s+["']bun["']/.test(code)) offenders.push(f);
  }
  expect(offenders).toEqual([]);
  expect(files(SRC).length).toBeGreaterThan(5);
});
