/**
 * Deno adapter: the same Node host as Node (node-host.ts: `node:http` + `ws` through Deno's Node
 * compatibility) with Deno's arguments, environment, signals and exit. `Deno.serve` is not used:
 * its WebSocket reads a whole frame before checking its size, accepts unmasked client frames and
 * costs a system call per frame per recipient (issues 12 and 17).
 * Permissions: --allow-net --allow-env --allow-read (see deno.json).
 * @module
 */
import { nodeServerHost } from "./node-host.ts";
import { boot } from "../src/boot.ts";

/** Writes all of `text` before returning, so a start-up failure's line is out before exit. */
function writeAll(out: { writeSync(b: Uint8Array): number }, text: string): void {
  let buf = new TextEncoder().encode(text);
  while (buf.length > 0) buf = buf.subarray(out.writeSync(buf));
}

await boot({
  runtime: "deno",
  runtimeVersion: Deno.version.deno,
  argv: Deno.args,
  env: Deno.env.toObject(),
  readTextFile: (path) => Deno.readTextFileSync(path),
  ...nodeServerHost(),
  onSignal: (handler) => {
    Deno.addSignalListener("SIGINT", () => handler("SIGINT"));
    Deno.addSignalListener("SIGTERM", () => handler("SIGTERM"));
  },
  stdout: (line) => writeAll(Deno.stdout, `${line}\n`),
  stderr: (line) => writeAll(Deno.stderr, `${line}\n`),
  exit: (code) => Deno.exit(code),
});
