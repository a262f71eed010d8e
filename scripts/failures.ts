/**
 * Prints each failed test of a `bun test --reporter=junit` report with its error, last.
 *
 * Why: CI keeps only the tail of a long run, and bun's closing summary names the failed tests
 * without their errors, so a rare failure (a wait that timed out, and what the servers said)
 * could not be read afterwards. `npm test` runs this after a failed suite.
 *
 * Usage: `bun scripts/failures.ts test-results/junit.xml` (on stderr, after bun's own output; exit 0).
 */
import { existsSync, readFileSync } from "node:fs";

/** Longest error printed per test, in characters (the report holds them whole). */
const MAX_ERROR_CHARS = 3000;

const decode = (s: string) =>
  s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
const attr = (tag: string, name: string) => decode(new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1] ?? "");

/** One failed test: where it is, its name, and its error text. */
export interface Failure {
  file: string;
  line: string;
  name: string;
  error: string;
}

/** The failed test cases of a junit report (bun's: `<testcase …><failure …>text</failure>`). */
export function failuresOf(xml: string): Failure[] {
  const out: Failure[] = [];
  for (const m of xml.matchAll(/<testcase\b([^>]*[^/])>([\s\S]*?)<\/testcase>/g)) {
    const body = /<(failure|error)\b([^>]*)>([\s\S]*?)<\/\1>|<(failure|error)\b([^>]*)\/>/.exec(m[2]!);
    if (!body) continue;
    const text = body[3] !== undefined ? decode(body[3]) : attr(body[5] ?? "", "message");
    out.push({ file: attr(m[1]!, "file"), line: attr(m[1]!, "line"), name: attr(m[1]!, "name"), error: text.trim() });
  }
  return out;
}

if (import.meta.main) {
  const path = process.argv[2] ?? "test-results/junit.xml";
  if (!existsSync(path)) {
    console.error(`(no test report at ${path}: the suite stopped before writing it)`);
  } else {
    const failed = failuresOf(readFileSync(path, "utf8"));
    if (failed.length) console.error(`\n── ${failed.length} failed test(s), each with its error (their logs are above) ──`);
    for (const f of failed) {
      const error = f.error.length > MAX_ERROR_CHARS ? `${f.error.slice(0, MAX_ERROR_CHARS)}… (${f.error.length} chars in ${path})` : f.error;
      console.error(`\n✗ ${f.file}:${f.line} ${f.name}\n${error}`);
    }
  }
}
