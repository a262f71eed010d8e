/**
 * Node adapter: the Node host (node-host.ts: `node:http` + `ws`, framed once per broadcast, one
 * write per recipient per tick) with the process' arguments, environment, signals and exit.
 * @module
 */
import { nodeServerHost } from "./node-host.ts";
import { processHost } from "./process-host.ts";
import { boot } from "../src/boot.ts";

await boot({
  runtime: "node",
  runtimeVersion: process.versions.node,
  ...processHost(),
  ...nodeServerHost(),
});
