/**
 * [ops] The command line on every build (Bun, Deno, the Node bundle, the compiled binary) and
 * through the documented start commands: --help, --version and --check-config answer and exit
 * without starting a server; the `.env` policy is the same everywhere.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SETTINGS } from "../../src/config.ts";
import { SERVER_VERSION } from "../../src/version.ts";
import { BUILDS, buildCommand, limited, looksLikeTrace, runBuild, runToEnd, type Build } from "../helpers/builds.ts";
import { ROOT, startServer } from "../helpers/server.ts";

const SECRET = "a-secret-of-at-least-32-bytes-for-tests!";
const scratch = mkdtempSync(join(tmpdir(), "graphwiz-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const runtimeOf = (b: Build) => (b === "binary" ? "bun" : b);

describe.each(BUILDS)("command line of the %s build", (build) => {
  test("--help and -h: usage, every option, every setting with its default and range, grouped; exit 0, no server", async () => {
    for (const flag of ["--help", "-h"]) {
      const o = await runBuild(build, [flag]);
      expect(o.code, o.stderr).toBe(0);
      expect(o.stderr).toBe("");
      for (const word of ["Usage:", "--help", "--version", "--check-config", "--settings-file", "Server:", "Authentication:", "Cluster:", "Exit codes:"]) expect(o.stdout).toContain(word);
      for (const s of Object.values(SETTINGS)) expect(o.stdout).toContain(`  ${s.env}=`);
      expect(o.stdout).toContain("  PORT=8083");
      expect(o.stdout).toContain("0–65535");
      expect(o.stdout).not.toContain('"event":"listening"');
    }
  }, 30_000);

  test("--version, -v and version: the version, the runtime and its version; exit 0", async () => {
    for (const flag of ["--version", "-v", "version"]) {
      const o = await runBuild(build, [flag]);
      expect(o.code, o.stderr).toBe(0);
      const compiled = build === "binary" ? ", compiled binary" : "";
      expect(o.stdout).toMatch(new RegExp(`^graphwiz-ws ${SERVER_VERSION.replace(/\./g, "\\.")} \\(${runtimeOf(build)} \\d+\\.\\d+\\.\\d+${compiled}\\)\\n$`));
    }
  }, 30_000);

  test("--check-config: valid settings print the effective configuration with secrets masked, exit 0; invalid ones one line, exit 2", async () => {
    const env = { JWT_SECRET: SECRET, METRICS_TOKEN: "metrics-token-1", REDIS_URL: "redis://app:hunter2@127.0.0.1:1/3", PORT: "9123" };
    const o = await runBuild(build, ["--check-config"], env);
    expect(o.code, o.stderr).toBe(0);
    expect(o.stderr).toBe("");
    expect(o.stdout).toContain("the configuration is valid");
    expect(o.stdout).toContain("authentication: required; cluster: Redis at redis://app:***@127.0.0.1:1/3");
    expect(o.stdout).toContain("\nPORT=9123\n");
    expect(o.stdout).toContain("\nHOST=127.0.0.1\n");
    expect(o.stdout).toContain("\nMAX_CONNECTIONS=50000  # default\n");
    expect(o.stdout).toContain("\nJWT_SECRET=********\n");
    for (const secret of [SECRET, "metrics-token-1", "hunter2"]) expect(o.stdout).not.toContain(secret);
    // It connects to nothing: Redis on port 1 would have failed start-up.

    const bad = await runBuild(build, ["--check-config"], { NODE_TTL_MS: "300" });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.errLines).toEqual(["graphwiz-ws: Invalid NODE_TTL_MS: must be at least twice NODE_HEARTBEAT_MS (2000), so one late heartbeat does not declare an instance dead; got 300"]);
    expect(looksLikeTrace(bad.stderr)).toBe(false);
  }, 30_000);

  test(".env policy: a .env in the working directory is ignored; --settings-file and SETTINGS_FILE are read, the real environment wins", async () => {
    const dir = mkdtempSync(join(scratch, `${build}-`));
    writeFileSync(join(dir, ".env"), "NODE_ID=from-dotenv\nPORT=1\n");
    writeFileSync(join(dir, "graphwiz.env"), "# settings\nNODE_ID=from-file\nexport LOG_LEVEL=warn\nHOST=10.255.255.1\n");
    const cmd = await buildCommand(build);
    const abs = cmd.map((a) => (a.startsWith("adapters/") ? join(ROOT, a) : a));
    const check = (args: string[], env: Record<string, string> = {}) => runToEnd([...abs, ...args, "--check-config"], env, { cwd: dir });
    const plain = await check([]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain("\nNODE_ID=(none)  # default\n");
    expect(plain.stdout).toContain("\nPORT=0\n");
    const viaFlag = await check(["--settings-file", "graphwiz.env"]);
    expect(viaFlag.code, viaFlag.stderr).toBe(0);
    expect(viaFlag.stdout).toContain("\nNODE_ID=from-file  # settings file\n");
    expect(viaFlag.stdout).toContain("\nLOG_LEVEL=warn  # settings file\n");
    expect(viaFlag.stdout).toContain("\nHOST=127.0.0.1\n"); // the real environment wins
    const viaEnv = await check([], { SETTINGS_FILE: join(dir, "graphwiz.env"), NODE_ID: "from-env" });
    expect(viaEnv.stdout).toContain("\nNODE_ID=from-env\n");
    expect(viaEnv.stdout).toContain("\nLOG_LEVEL=warn  # settings file\n");
    // And a server started there really ignores the .env: its node id is random, not "from-dotenv".
    const s = await startServer(build === "binary" ? "binary" : build, {}, { cwd: dir, binary: build === "binary" ? cmd[0] : undefined, ...(build === "binary" ? {} : { command: abs }) });
    try {
      const health = await (await fetch(`${s.http}/health`)).json();
      expect(health.node_id).not.toBe("from-dotenv");
      expect(s.port).not.toBe(1);
    } finally {
      await s.stop();
    }
  }, 60_000);
});

describe("the documented start commands pass arguments on", () => {
  test("npm start -- --version, bun run start --version, deno task start --version, npm run start:node -- --version", async () => {
    const bun = join(ROOT, "node_modules/.bin/bun");
    const deno = join(ROOT, "node_modules/.bin/deno");
    const runs: [string[], string][] = [
      [["npm", "start", "-s", "--", "--version"], "bun"],
      [[bun, "run", "start", "--version"], "bun"],
      [[deno, "task", "-q", "start", "--version"], "deno"],
      [["npm", "run", "-s", "start:node", "--", "--version"], "node"],
    ];
    const outs = await limited(2, runs.map(([cmd]) => () => runToEnd(cmd)));
    outs.forEach((o, i) => {
      expect(o.code, `${runs[i]![0].join(" ")}: ${o.stderr}`).toBe(0);
      expect(o.stdout).toContain(`graphwiz-ws ${SERVER_VERSION} (${runs[i]![1]} `);
    });
  }, 60_000);
});
