// `npm run start:node`: runs the Node bundle in this process (so signals reach the server), or
// says in one line how to build it. Arguments are passed on (--help, --version, --check-config …).
import { existsSync } from "node:fs";

const bundle = new URL("../dist/graphwiz-ws.mjs", import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("graphwiz-ws: dist/graphwiz-ws.mjs is missing: run `npm run build` first (it bundles the server for Node)\n");
  process.exit(1);
}
await import(bundle.href);
