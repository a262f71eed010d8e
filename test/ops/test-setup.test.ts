/**
 * [ops] `npm test` sets itself up on a fresh Debian/Ubuntu machine: scripts/test-setup.sh (its
 * `pretest`) installs the missing system tools with apt, saying what, or stops with one line
 * giving the exact command. Run here against stand-ins for `apt-get` and `id` (nothing is
 * installed); a missing tool is simulated with CHROMIUM_PATH pointing nowhere.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runToEnd } from "../helpers/builds.ts";
import { ROOT } from "../helpers/server.ts";

const dir = mkdtempSync(join(tmpdir(), "graphwiz-setup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stub = (name: string, body: string) => {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
};
const script = join(ROOT, "scripts/test-setup.sh");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

test("npm test runs the set-up first, then the typecheck, deno check and the suite; .ci/run calls npm test", () => {
  expect(pkg.scripts.pretest).toBe("bash scripts/test-setup.sh");
  expect(pkg.scripts.test).toBe("npm run -s typecheck && npm run -s check:deno && npm run -s test:suite");
  expect(pkg.scripts["test:suite"]).toStartWith("rm -f test-results/junit.xml && bun test --timeout 60000 --reporter=junit --reporter-outfile=test-results/junit.xml || { bun scripts/failures.ts test-results/junit.xml; exit 1; }");
  expect(pkg.scripts.typecheck).toBe("tsc --noEmit -p .");
  expect(pkg.scripts["check:deno"]).toMatch(/^deno check adapters\/deno\.ts/);
  expect(readFileSync(join(ROOT, ".ci/run"), "utf8")).toMatch(/\nnpm test\n$/);
  expect(pkg.devDependencies["prom-client"]).toBeUndefined(); // unused: removed
});

test("a failed suite ends with each failed test and its error (CI keeps only the tail), and still exits 1", async () => {
  const fixture = join(dir, "fails.test.ts");
  writeFileSync(fixture, 'import { expect, test } from "bun:test";\ntest("passes", () => expect(1).toBe(1));\n' +
    'test("waits <for> \\"x\\" & times out", () => { throw new Error("timed out waiting for delivery; m1: [1,2] & <3>"); });\n');
  const report = join(dir, "junit.xml");
  const suite = pkg.scripts["test:suite"].replaceAll("test-results/junit.xml", report).replace("--timeout 60000", `--timeout 60000 ${fixture}`);
  const o = await runToEnd(["sh", "-c", suite], {}, { cwd: ROOT });
  expect(o.code).toBe(1);
  const tail = o.stderr.slice(o.stderr.lastIndexOf("failed test(s), each with its error"));
  expect(tail).toContain('fails.test.ts:3 waits <for> "x" & times out');
  expect(tail).toContain("timed out waiting for delivery; m1: [1,2] & <3>");
  expect(tail).not.toContain("passes");
});

test("as root with tools missing: installs them with apt-get, saying which", async () => {
  const log = join(dir, "apt.log");
  stub("apt-get", `echo "apt-get $*" >> ${log}`);
  const o = await runToEnd(["bash", script], { PATH: `${dir}:/usr/bin:/bin`, CHROMIUM_PATH: "/nonexistent/chromium" });
  expect(o.code, o.stderr).toBe(0);
  expect(o.stderr).toContain("graphwiz-ws test set-up: installing chromium fonts-dejavu-core with apt-get");
  const calls = readFileSync(log, "utf8").trim().split("\n");
  expect(calls[0]).toContain("update");
  expect(calls[1]).toMatch(/install -y -qq --no-install-recommends chromium fonts-dejavu-core$/);
});

test("not root and no password-less sudo: one line with the exact command, exit 1", async () => {
  stub("id", 'echo 1000');
  stub("sudo", "exit 1");
  const o = await runToEnd(["bash", script], { PATH: `${dir}:/usr/bin:/bin`, CHROMIUM_PATH: "/nonexistent/chromium" });
  expect(o.code).toBe(1);
  expect(o.errLines).toEqual([
    "graphwiz-ws: npm test needs chromium fonts-dejavu-core, but installing them needs root and sudo without a password is not available here; " +
      "install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium fonts-dejavu-core",
  ]);
});
