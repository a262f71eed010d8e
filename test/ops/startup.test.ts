/**
 * [ops] Every start-up failure, on every build (Bun, Deno, the Node bundle, the compiled
 * binary): one line on standard error naming what to change, nothing on standard output, no
 * stack trace, exit 2 for the configuration and 1 for the environment — and the same line on
 * every build.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILDS, buildCommand, limited, looksLikeTrace, runBuild, runToEnd, type Build, type Outcome } from "../helpers/builds.ts";
import { freePort } from "../helpers/redis.ts";
import { ROOT } from "../helpers/server.ts";

const SECRET = "s".repeat(32);
let busy: Server;
let busyPort = 0;
beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => busy?.close());

/** A bad case: its environment and arguments, the exit code, and what the line must say. */
interface Case {
  name: string;
  env: () => Record<string, string>;
  args?: string[];
  code: 1 | 2;
  says: string | RegExp;
}

const CASES: Case[] = [
  { name: "port in use", env: () => ({ PORT: String(busyPort) }), code: 1, says: /^graphwiz-ws: Port [1-9]\d* on 127\.0\.0\.1 is already in use: stop the other process, or set PORT/ },
  { name: "HOST=not-a-host", env: () => ({ HOST: "not-a-host", PORT: "0" }), code: 2, says: 'Invalid HOST: cannot listen on "not-a-host"' },
  { name: "HOST not on this machine", env: () => ({ HOST: "192.0.2.1" }), code: 2, says: 'Invalid HOST: cannot listen on "192.0.2.1"' },
  { name: "NODE_ID of 65 characters", env: () => ({ NODE_ID: "n".repeat(65) }), code: 2, says: "Invalid NODE_ID: must be 1-64" },
  { name: "NODE_ID with a space", env: () => ({ NODE_ID: "node a" }), code: 2, says: "Invalid NODE_ID:" },
  { name: "NODE_TTL_MS below NODE_HEARTBEAT_MS", env: () => ({ NODE_TTL_MS: "1000", NODE_HEARTBEAT_MS: "2000" }), code: 2, says: "Invalid NODE_TTL_MS: must be at least twice NODE_HEARTBEAT_MS" },
  { name: "soft limit above the hard one", env: () => ({ SLOW_CONSUMER_SOFT_BYTES: "4000000" }), code: 2, says: "Invalid SLOW_CONSUMER_SOFT_BYTES: must be below SLOW_CONSUMER_HARD_BYTES" },
  { name: "ALLOWED_ORIGINS=not-an-origin", env: () => ({ ALLOWED_ORIGINS: "not-an-origin" }), code: 2, says: 'Invalid ALLOWED_ORIGINS: "not-an-origin" is not an origin' },
  { name: "an origin with a path", env: () => ({ ALLOWED_ORIGINS: "https://app.example/lobby" }), code: 2, says: 'Invalid ALLOWED_ORIGINS: "https://app.example/lobby" is not an origin' },
  { name: "METRICS_TOKEN of whitespace", env: () => ({ METRICS_TOKEN: " " }), code: 2, says: "Invalid METRICS_TOKEN: is blank" },
  { name: "JWT_ISSUER without a key", env: () => ({ JWT_ISSUER: "https://id.example" }), code: 2, says: "Invalid JWT_ISSUER: only applies with a key" },
  { name: "AUTH_MODE without a key", env: () => ({ AUTH_MODE: "optional" }), code: 2, says: "Invalid AUTH_MODE: only applies with a key" },
  { name: "two key sources", env: () => ({ JWT_SECRET: SECRET, JWT_JWKS_URL: "https://id.example/jwks" }), code: 2, says: "Invalid JWT_JWKS_URL: set only one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL" },
  { name: "a short JWT_SECRET", env: () => ({ JWT_SECRET: "short" }), code: 2, says: "Invalid JWT_SECRET: must be at least 32 bytes long" },
  { name: "JWT_PUBLIC_KEY that is no PEM", env: () => ({ JWT_PUBLIC_KEY: "garbage" }), code: 2, says: "Invalid JWT_PUBLIC_KEY: is not a PEM block" },
  { name: "JWT_JWKS_URL over http", env: () => ({ JWT_JWKS_URL: "http://id.example/jwks" }), code: 2, says: "Invalid JWT_JWKS_URL: must use https" },
  { name: "JWT_ALGORITHMS=none", env: () => ({ JWT_SECRET: SECRET, JWT_ALGORITHMS: "none" }), code: 2, says: "Invalid JWT_ALGORITHMS: none is never allowed" },
  { name: "NODE_ENV=Production without a key", env: () => ({ NODE_ENV: "Production" }), code: 2, says: "Invalid NODE_ENV: production needs JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL" },
  { name: 'NODE_ENV="production " without a key', env: () => ({ NODE_ENV: "production " }), code: 2, says: "Invalid NODE_ENV: production needs" },
  { name: "REDIS_URL=not-a-url", env: () => ({ REDIS_URL: "not-a-url" }), code: 2, says: "Invalid REDIS_URL: must be a URL like redis://host:6379" },
  { name: "REDIS_URL=http://…", env: () => ({ REDIS_URL: "http://127.0.0.1:6379" }), code: 2, says: "Invalid REDIS_URL: must start with redis:// or rediss://" },
  { name: "REDIS_CLUSTER_NODES=garbage", env: () => ({ REDIS_CLUSTER_NODES: "garbage" }), code: 2, says: 'Invalid REDIS_CLUSTER_NODES: "garbage" is not host:port' },
  { name: "REDIS_SENTINELS without a name", env: () => ({ REDIS_SENTINELS: "127.0.0.1:26379" }), code: 2, says: "Invalid REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS" },
  { name: "PING_INTERVAL_MS=-5", env: () => ({ PING_INTERVAL_MS: "-5" }), code: 2, says: "Invalid PING_INTERVAL_MS: must be between 1000 and 3600000, got -5" },
  { name: "an unknown argument", env: () => ({}), args: ["--port=80"], code: 2, says: 'Unknown argument "--port=80"' },
  { name: "--settings-file that does not exist", env: () => ({}), args: ["--settings-file", "/nonexistent/graphwiz.env"], code: 2, says: 'Invalid --settings-file: cannot read "/nonexistent/graphwiz.env": no such file' },
  { name: "SETTINGS_FILE with a bad line", env: () => ({ SETTINGS_FILE: badEnvFile }), code: 2, says: "Invalid SETTINGS_FILE:" },
];

const scratch = mkdtempSync(join(tmpdir(), "graphwiz-startup-"));
const badEnvFile = join(scratch, "bad.env");
writeFileSync(badEnvFile, "PORT=1\nthis line is wrong\n");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The checks every failure must pass. */
function expectOneLine(o: Outcome, c: Pick<Case, "code" | "says">, label: string): string {
  expect(o.code, `${label}: exit code (stderr: ${o.stderr})`).toBe(c.code);
  expect(o.errLines, `${label}: exactly one line on stderr`).toHaveLength(1);
  const line = o.errLines[0]!;
  expect(line.startsWith("graphwiz-ws: "), `${label}: ${line}`).toBe(true);
  if (typeof c.says === "string") expect(line, label).toContain(c.says);
  else expect(line, label).toMatch(c.says);
  expect(looksLikeTrace(o.stderr + o.stdout), `${label}: no stack trace`).toBe(false);
  expect(o.stdout, `${label}: nothing on stdout`).toBe("");
  return line;
}

describe("start-up failures: one line naming what to change, on every build", () => {
  test(`${CASES.length} bad cases × ${BUILDS.join(", ")}: exit code, one line, the variable named, no stack trace, the same text everywhere`, async () => {
    await buildCommand("binary"); // compile once before the runs start
    const runs = CASES.flatMap((c) => BUILDS.map((b) => ({ c, b })));
    const outcomes = await limited(4, runs.map(({ c, b }) => () => runBuild(b, c.args ?? [], c.env())));
    const lines = new Map<string, Map<Build, string>>();
    runs.forEach(({ c, b }, i) => {
      const line = expectOneLine(outcomes[i]!, c, `${c.name} on ${b}`);
      lines.set(c.name, (lines.get(c.name) ?? new Map()).set(b, line));
    });
    for (const [name, byBuild] of lines) expect(new Set(byBuild.values()).size, `${name}: ${[...byBuild.values()].join(" | ")}`).toBe(1);
  }, 300_000);

  test("Redis unreachable: exit 1, one line naming REDIS_URL, on every build", async () => {
    const port = await freePort();
    const outcomes = await Promise.all(BUILDS.map((b) => runBuild(b, [], { REDIS_URL: `redis://:hunter2@127.0.0.1:${port}`, REDIS_CONNECT_TIMEOUT_MS: "2000" }, { timeoutMs: 30_000 })));
    outcomes.forEach((o, i) => {
      const line = expectOneLine(o, { code: 1, says: `Redis at redis://:***@127.0.0.1:${port} is not reachable` }, `redis on ${BUILDS[i]}`);
      expect(line).toContain("check REDIS_URL");
      expect(line).toContain("after 2000 ms"); // REDIS_CONNECT_TIMEOUT_MS
      expect(line).not.toContain("hunter2");
    });
  }, 60_000);

  test("under load the line is still written before the process exits (24 binaries and 8 Bun servers at once)", async () => {
    const cmds = [...Array.from({ length: 24 }, () => buildCommand("binary")), ...Array.from({ length: 8 }, () => buildCommand("bun"))];
    const outcomes = await Promise.all((await Promise.all(cmds)).map((cmd) => runToEnd(cmd, { PING_INTERVAL_MS: "-5" }, { timeoutMs: 60_000 })));
    for (const o of outcomes) expectOneLine(o, { code: 2, says: "Invalid PING_INTERVAL_MS: must be between 1000 and 3600000, got -5" }, "under load");
  }, 90_000);

  test("npm run start:node without a build: one line saying to run npm run build, exit 1", async () => {
    // A copy of the package without dist/: the script must not fall through to Node's module error.
    const dir = join(scratch, "nobuild");
    mkdirSync(join(dir, "scripts"), { recursive: true });
    copyFileSync(join(ROOT, "package.json"), join(dir, "package.json"));
    copyFileSync(join(ROOT, "scripts/start-node.mjs"), join(dir, "scripts/start-node.mjs"));
    const o = await runToEnd(["npm", "run", "-s", "start:node"], {}, { cwd: dir });
    expectOneLine(o, { code: 1, says: "graphwiz-ws: dist/graphwiz-ws.mjs is missing: run `npm run build` first" }, "start:node");
  }, 30_000);
});
