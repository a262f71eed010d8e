/**
 * The process side of a host for the runtimes with Node's `process` and `node:fs` (Bun, the
 * compiled binary, Node): arguments, environment, the `--settings-file` reader, signals, output and
 * exit. Output is written synchronously, so a start-up failure's line is out before `exit`,
 * even on a busy machine.
 * @module
 */
import { lookup } from "node:dns/promises";
import { readFileSync, writeSync } from "node:fs";
import type { Host } from "../src/boot.ts";

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `text` to `fd` before returning (waiting while a non-blocking pipe is full). */
function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  for (let tries = 0; buf.length > 0 && tries < 10_000; tries++) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (e) {
      if ((e as { code?: string }).code !== "EAGAIN") return; // the reader is gone: nothing to do
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** Everything of a {@link Host} that comes from the process itself. */
export function processHost(): Pick<Host, "argv" | "env" | "readTextFile" | "resolves" | "onSignal" | "stdout" | "stderr" | "exit"> {
  return {
    argv: process.argv.slice(2),
    env: process.env,
    readTextFile: (path) => readFileSync(path, "utf8"),
    resolves: (name) => lookup(name).then(() => true, () => false),
    onSignal: (handler) => {
      process.on("SIGINT", () => handler("SIGINT"));
      process.on("SIGTERM", () => handler("SIGTERM"));
    },
    stdout: (line) => writeAll(1, `${line}\n`),
    stderr: (line) => writeAll(2, `${line}\n`),
    exit: (code) => process.exit(code),
  };
}
