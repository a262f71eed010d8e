/**
 * [sdk] The client package as a user gets it: `npm pack`, then `npm install <tarball>` in an
 * empty project, then the same chat + presence + entity script against a real server on Node 20
 * (ESM and CommonJS, `ws` as the WebSocket), Node 22, Deno (`npm:` specifier) and Bun;
 * TypeScript with `tsc --init` defaults; the tarball's contents and the install's footprint.
 * (Chromium runs the same script in test/browser/demo.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, ROOT, startServer, type RunningServer } from "../helpers/server.ts";
import { installedManifest, installedProject, node22Binary, packedClient, run } from "./install.ts";
import { EXPECTED, smokeScript } from "./smoke.ts";

let s: RunningServer;
let dir: string;
beforeAll(async () => {
  [s, dir] = await Promise.all([startServer("bun"), installedProject()]);
  writeFileSync(join(dir, "smoke.mjs"), smokeScript("esm"));
  writeFileSync(join(dir, "smoke.cjs"), smokeScript("cjs"));
  writeFileSync(join(dir, "smoke-deno.mjs"), smokeScript("deno"));
}, 300_000);
afterAll(async () => {
  await s?.stop();
});

/** Runs the smoke script and returns what it printed (parsed). */
function smoke(cmd: string[], room: string): Record<string, unknown> {
  const out = run([...cmd, s.ws, room], dir, 60_000).trim().split("\n");
  return JSON.parse(out.at(-1)!);
}

describe("the packed package", () => {
  test("carries only dist/, its manifest and README; the install adds no server dependency", async () => {
    const tarball = await packedClient();
    const entries = run(["tar", "-tzf", tarball], ROOT).trim().split("\n").sort();
    expect(entries.filter((e) => !e.startsWith("package/dist/"))).toEqual(["package/README.md", "package/package.json"]);
    expect(entries).toContain("package/dist/browser.js");
    expect(entries).toContain("package/dist/types/client/index.d.ts");
    expect(entries).toContain("package/dist/types/client/index.d.cts");
    expect(entries.some((e) => /\.ts$/.test(e) && !/\.d\.c?ts$/.test(e))).toBe(false);
    // node_modules of the user's project: the SDK and the `ws` they asked for, nothing else.
    expect(readdirSync(join(dir, "node_modules")).filter((n) => !n.startsWith(".")).sort()).toEqual(["graphwiz-ws-client", "ws"]);
    const manifest = installedManifest(dir);
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.peerDependenciesMeta).toEqual({ ws: { optional: true } });
    expect(manifest.version).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  });

  test("the root package's exports resolve to the built client (self-reference, ESM and CommonJS)", async () => {
    await packedClient(); // builds client/dist
    const esm = run(["node", "--input-type=module", "-e", 'const m = await import("graphwiz-ws/client"); const r = await import("graphwiz-ws"); console.log(typeof m.GraphwizClient, m.GraphwizClient === r.GraphwizClient)'], ROOT);
    expect(esm.trim()).toBe("function true");
    const cjs = run(["node", "-e", 'console.log(typeof require("graphwiz-ws/client").GraphwizClient)'], ROOT);
    expect(cjs.trim()).toBe("function");
  });
});

describe("the same script on every runtime, from the installed tarball", () => {
  test("Node 20 (system node, ESM): no global WebSocket, so the optional ws peer is used", () => {
    expect(run(["node", "--version"], dir).trim()).toStartWith("v20.");
    expect(smoke(["node", "smoke.mjs"], "pkg-node20")).toEqual({ ...EXPECTED, globalWebSocket: "undefined" });
  }, 60_000);

  test("Node 20, CommonJS (require)", () => {
    expect(smoke(["node", "smoke.cjs"], "pkg-node20-cjs")).toEqual({ ...EXPECTED, globalWebSocket: "undefined" });
  }, 60_000);

  test("Node 20 without ws and without options.WebSocket: connect() rejects with NO_WEBSOCKET", () => {
    // Outside the project, so that Node's lookup cannot find the project's ws.
    const bare = mkdtempSync(join(tmpdir(), "graphwiz-bare-"));
    mkdirSync(join(bare, "node_modules"), { recursive: true });
    cpSync(join(dir, "node_modules/graphwiz-ws-client"), join(bare, "node_modules/graphwiz-ws-client"), { recursive: true });
    writeFileSync(join(bare, "package.json"), '{"type":"module"}');
    writeFileSync(join(bare, "t.mjs"), `import { GraphwizClient } from "graphwiz-ws-client";
new GraphwizClient({ url: "ws://127.0.0.1:9", room: "r", reconnect: false }).connect().catch((e) => console.log(e.name, e.code));`);
    expect(run(["node", "t.mjs"], bare, 20_000).trim()).toBe("GraphwizError NO_WEBSOCKET");
  }, 30_000);

  test("Node 22 (from npm): the global WebSocket", async () => {
    const node22 = await node22Binary();
    expect(run([node22, "--version"], dir).trim()).toStartWith("v22.");
    expect(smoke([node22, "smoke.mjs"], "pkg-node22")).toEqual({ ...EXPECTED, globalWebSocket: "function" });
  }, 300_000);

  test("Deno, with the npm: specifier", () => {
    expect(smoke([BIN("deno"), "run", "--allow-net", "--allow-read", "--allow-env", "smoke-deno.mjs"], "pkg-deno")).toEqual({ ...EXPECTED, globalWebSocket: "function" });
  }, 60_000);

  test("Bun", () => {
    expect(smoke([BIN("bun"), "smoke.mjs"], "pkg-bun")).toEqual({ ...EXPECTED, globalWebSocket: "function" });
  }, 60_000);
});

const TYPED_APP = `import { GraphwizClient, GraphwizError, MessageType, type ChatEvent, type EntityChange, type Player, type PresenceChange } from "graphwiz-ws-client";
import { protobufCodec } from "graphwiz-ws-client/protobuf";

const c = new GraphwizClient({ url: "ws://localhost:8083", room: "lobby", displayName: "Ann", format: "protobuf", reliable: true, reconnect: { initialMs: 100 } });
c.on("presence", (ev: PresenceChange) => console.log(ev.kind, ev.player.display_name, ev.source));
c.on("entity", (ev: EntityChange) => console.log(ev.kind, ev.entity.components["color"]));
c.on("position", (ev, msg) => console.log(ev.entity_id, ev.position?.x, msg?.seq));
c.on("chat", (chat: ChatEvent, msg) => console.log(chat.type, chat.message, msg.message_id));
c.on("error", (e) => console.log(e.code, e.ref_message_id));
c.on("close", ({ code, willReconnect }) => console.log(code, willReconnect));
c.on("message", (m) => m.type === MessageType.CHAT_MESSAGE && console.log(m.chat_message?.message));
const hello = await c.connect();
const me: Player | undefined = c.players.get(hello.client_id);
c.sendChat("hi", { to: me?.client_id ?? "" });
c.spawnEntity({ entity_id: "box", template_id: "cube", components: { color: "red" }, position: { x: 1, y: 0, z: 2 } });
c.updateEntity("box", { color: "blue" });
try {
  c.close();
  c.sendChat("late");
} catch (e) {
  if (e instanceof GraphwizError) console.log(e.code);
}
console.log(protobufCodec.format, c.state);
`;
const TYPED_CJS = `import sdk = require("graphwiz-ws-client");
const c = new sdk.GraphwizClient({ url: "ws://localhost:8083", room: "lobby" });
c.on("chat", (chat) => console.log(chat.from_client_id, chat.message));
const id: string | undefined = c.clientId;
console.log(id, sdk.ClientErrorCode.QUEUE_FULL);
`;

describe("TypeScript users", () => {
  test("tsc --init defaults: no error, in an ES module and a CommonJS file; also with skipLibCheck off", () => {
    const ts = join(dir, "ts");
    mkdirSync(ts, { recursive: true });
    writeFileSync(join(ts, "package.json"), '{"type":"module"}');
    cpSync(join(dir, "node_modules"), join(ts, "node_modules"), { recursive: true });
    run([BIN("tsc"), "--init"], ts);
    writeFileSync(join(ts, "app.ts"), TYPED_APP);
    writeFileSync(join(ts, "legacy.cts"), TYPED_CJS);
    expect(run([BIN("tsc"), "--noEmit", "-p", "."], ts)).toBe("");
    expect(run([BIN("tsc"), "--noEmit", "-p", ".", "--skipLibCheck", "false"], ts)).toBe("");
    // And a mistake is caught (the types are real, not `any`).
    writeFileSync(join(ts, "wrong.ts"), `import { GraphwizClient } from "graphwiz-ws-client";\nnew GraphwizClient({ url: 1, room: "r" }).sendChat(42);\n`);
    const r = Bun.spawnSync([BIN("tsc"), "--noEmit", "-p", "."], { cwd: ts, stdout: "pipe" });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout.toString()).toContain("wrong.ts");
  }, 120_000);
});
