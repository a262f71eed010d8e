/** Builds (once per test run) what the tests execute: the Node bundle and the compiled binary. */
import { spawnSync } from "bun";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
let bundle: Promise<string> | undefined;
let binary: Promise<string> | undefined;

/** Runs `npm run build` once and returns the bundle's path. */
export function ensureNodeBundle(): Promise<string> {
  return (bundle ??= (async () => {
    const r = spawnSync(["npm", "run", "-s", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`npm run build failed: ${r.stderr.toString()}`);
    return resolve(ROOT, "dist/graphwiz-ws.mjs");
  })());
}

/** Runs `npm run compile` (the documented single executable, with its flags) once and returns its path. */
export function ensureBinary(): Promise<string> {
  return (binary ??= (async () => {
    const r = spawnSync(["npm", "run", "-s", "compile"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`npm run compile failed: ${r.stderr.toString()}`);
    return resolve(ROOT, "dist/graphwiz-ws");
  })());
}
