/**
 * [sdk] docs/client.md stays true: every `js` example in it runs, as written, from the installed
 * package (Node 20 with `ws`) against a real server — the examples that read
 * GRAPHWIZ_TOKEN against one with JWT auth — and every public method, property and event of
 * the client is documented there.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GraphwizClient } from "../../src/client/index.ts";
import { ROOT, startServer, type RunningServer } from "../helpers/server.ts";
import { mint, SECRET } from "../helpers/tokens.ts";
import { installedProject } from "./install.ts";

const DOC = readFileSync(join(ROOT, "docs/client.md"), "utf8");
const EXAMPLES = [...DOC.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);

let open: RunningServer, auth: RunningServer, dir: string;
beforeAll(async () => {
  [open, auth, dir] = await Promise.all([startServer("bun"), startServer("bun", { JWT_SECRET: SECRET }), installedProject()]);
}, 300_000);
afterAll(async () => {
  await Promise.all([open?.stop(), auth?.stop()]);
});

describe("docs/client.md", () => {
  test("has examples", () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(12);
  });

  test.each(EXAMPLES.map((code, i) => [i + 1, code.split("\n").find((l) => l.startsWith("const") || l.startsWith("//")) ?? "", code]))(
    "example %i runs (%s)",
    async (i, _title, code) => {
      const needsAuth = code.includes("GRAPHWIZ_TOKEN");
      const server = needsAuth ? auth : open;
      const file = join(dir, `doc-example-${i}.mjs`);
      writeFileSync(file, code.replaceAll("ws://localhost:8083", server.ws));
      const env: Record<string, string> = { PATH: process.env.PATH ?? "" };
      if (needsAuth) {
        env.GRAPHWIZ_TOKEN = await mint({ sub: "docs-user" });
        env.GRAPHWIZ_NEW_TOKEN = await mint({ sub: "docs-user", exp: Math.floor(Date.now() / 1000) + 7200 });
      }
      const r = Bun.spawnSync(["node", file], { cwd: dir, env, stdout: "pipe", stderr: "pipe", timeout: 20_000 });
      const out = r.stdout.toString();
      expect(r.stderr.toString()).toBe("");
      expect(r.exitCode).toBe(0);
      expect(out.length).toBeGreaterThan(0);
      expect(out).not.toContain("refused:"); // the auth example's refresh was accepted
      if (needsAuth) expect(out).toContain("signed in as docs-user");
    },
    30_000,
  );

  test("documents every public method, property and event of the client", () => {
    const names = new Set<string>();
    for (let p = GraphwizClient.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      for (const n of Object.getOwnPropertyNames(p)) if (n !== "constructor" && n !== "emit") names.add(n);
    }
    const c = new GraphwizClient({ url: "ws://127.0.0.1:9", room: "r" });
    for (const n of Object.keys(c)) names.add(n);
    const missing = [...names].filter((n) => !DOC.includes(`\`${n}\``) && !DOC.includes(`\`${n}(`));
    expect(missing).toEqual([]);
    const events = [...readFileSync(join(ROOT, "src/client/events.ts"), "utf8").split("export interface ClientEvents")[1]!.matchAll(/^\s{2}(\w+): \(/gm)].map((m) => m[1]!);
    expect(events.length).toBeGreaterThanOrEqual(12);
    expect(events.filter((e) => !DOC.includes(`| \`${e}\` |`))).toEqual([]);
  });
});
