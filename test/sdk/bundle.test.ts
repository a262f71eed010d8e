/**
 * [sdk] The browser bundle's budget: a JSON-only client downloads at most 15 KiB gzipped, and
 * protobufjs is never in it (it lives in protobuf.js, fetched only for format "protobuf").
 * The server's copy of the bundle (src/http/sdk-bundle.generated.ts) is the current build.
 */
import { expect, test } from "bun:test";
import { buildJs } from "../../client/build.ts";
import { BIN, ROOT } from "../helpers/server.ts";

const BUDGET = 15 * 1024;

test("browser.js is at most 15 KiB gzipped and carries no protobufjs; protobuf.js does", async () => {
  const js = await buildJs(["browser.js", "protobuf.js"]);
  const gzipped = Bun.gzipSync(new TextEncoder().encode(js["browser.js"]!), { level: 9 }).length;
  expect(gzipped).toBeLessThanOrEqual(BUDGET);
  // A message from protobufjs's reader, the class names of its runtime: only in protobuf.js.
  for (const marker of ["invalid wire type", "protobuf.js (bundled in this file)"]) {
    expect(js["browser.js"]).not.toContain(marker);
    expect(js["protobuf.js"]).toContain(marker);
  }
  // The only other file browser.js may load is protobuf.js, and only through a dynamic import.
  expect([...js["browser.js"]!.matchAll(/import\s*\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1])).toEqual(["./protobuf.js"]);
  expect(js["browser.js"]).not.toMatch(/\bfrom\s*"|\brequire\(/);
});

test("the server's copy of the SDK bundle and demo script is up to date (npm run build:client)", () => {
  const r = Bun.spawnSync([BIN("bun"), "client/build.ts", "--check"], { cwd: ROOT, stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
});
