/**
 * The small chat + presence + entity script every runtime runs against a real server, written
 * as a user would, from the installed package. One body; only the import line and where the
 * arguments come from differ (`smokeScript`). It prints one JSON line (the result) on success.
 *
 * Ann (JSON) and Bob (protobuf, so the codec is loaded from the package on demand) meet in a
 * room: Bob chats before connecting (queued), Ann spawns and recolours a box (applied locally,
 * merged remotely), Bob answers, leaves; sends after close() throw CLIENT_CLOSED.
 * @module
 */

const BODY = `
const [url, room] = ARGS;
const ann = new GraphwizClient({ url, room, clientId: "ann", displayName: "Ann", reconnect: false });
const bob = new GraphwizClient({ url, room, clientId: "bob", displayName: "Bob", format: "protobuf", reconnect: false });
const log = { annPresence: [], bobPresence: [], annChats: [], annEntities: [], bobEntities: [], bobPositions: [] };
ann.on("presence", (ev) => log.annPresence.push(ev.kind + ":" + ev.client_id + ":" + ev.source));
bob.on("presence", (ev) => log.bobPresence.push(ev.kind + ":" + ev.client_id + ":" + ev.source));
ann.on("chat", (c) => log.annChats.push(c.from_client_id + ":" + c.type + ":" + c.message));
ann.on("entity", (ev) => log.annEntities.push(ev.kind + ":" + ev.entity_id + ":" + ev.source));
bob.on("entity", (ev) => log.bobEntities.push(ev.kind + ":" + ev.entity_id + ":" + ev.source));
bob.on("position", (ev) => log.bobPositions.push(ev.entity_id + ":" + ev.target + ":" + ev.position.x));
const until = async (what, ok) => {
  for (let i = 0; !ok(); i++) {
    if (i > 500) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 10));
  }
};

await ann.connect();
bob.sendChat("queued before connect");
await bob.connect();
await until("Ann to see Bob join", () => ann.players.has("bob"));
ann.spawnEntity({ entity_id: "box", template_id: "cube", components: { color: "red", size: "1" }, position: { x: 1, y: 0, z: 2 } });
ann.updateEntity("box", { color: "blue" });
await until("Bob to see the box turn blue", () => bob.entities.get("box")?.components.color === "blue" && bob.entities.get("box")?.position);
bob.sendChat("hi Ann");
await until("Ann to get both chats", () => log.annChats.length === 2);
bob.close();
await until("Ann to see Bob leave", () => !ann.players.has("bob"));
ann.close();
let closedError = "";
try {
  ann.sendChat("after close");
} catch (e) {
  closedError = e.name + ":" + e.code;
}
console.log(JSON.stringify({
  ...log,
  annBox: ann.entities.get("box"),
  bobBox: bob.entities.get("box"),
  annPlayers: [...ann.players.keys()].sort(),
  bobSawAnn: bob.players.get("ann")?.display_name,
  closedError,
  globalWebSocket: typeof globalThis.WebSocket,
}));
`;

/** How the script gets the package and its arguments. */
export type SmokeFlavour = "esm" | "deno" | "cjs" | "browser";

/** The smoke script for one flavour (`browser`: a module script body for a page, arguments inlined). */
export function smokeScript(flavour: SmokeFlavour, args: string[] = []): string {
  switch (flavour) {
    case "esm":
      return `import { GraphwizClient } from "graphwiz-ws-client";\nconst ARGS = process.argv.slice(2);\n${BODY}`;
    case "deno":
      return `import { GraphwizClient } from "npm:graphwiz-ws-client";\nconst ARGS = Deno.args;\n${BODY}`;
    case "cjs":
      return `const { GraphwizClient } = require("graphwiz-ws-client");\nconst ARGS = process.argv.slice(2);\n(async () => {\n${BODY}\n})().catch((e) => { console.error(e); process.exit(1); });\n`;
    case "browser":
      return `import { GraphwizClient } from "/pkg/dist/browser.js";\nconst ARGS = ${JSON.stringify(args)};\nconst console = { log: (line) => (window.smokeResult = line) };\ntry {\n${BODY}\n} catch (e) { window.smokeResult = JSON.stringify({ error: String(e) }); }\n`;
  }
}

/** What every runtime must print. */
export const EXPECTED = {
  annPresence: ["join:ann:snapshot", "join:bob:server", "leave:bob:server"],
  bobPresence: ["join:ann:snapshot", "join:bob:snapshot"],
  annChats: ["bob:NORMAL:queued before connect", "bob:NORMAL:hi Ann"],
  annEntities: ["spawn:box:local", "update:box:local"],
  bobEntities: ["spawn:box:server", "update:box:server"],
  bobPositions: ["box:entity:1"],
  annBox: { id: "box", template_id: "cube", owner_id: "ann", components: { color: "blue", size: "1" }, position: { x: 1, y: 0, z: 2 } },
  bobBox: { id: "box", template_id: "cube", owner_id: "ann", components: { color: "blue", size: "1" }, position: { x: 1, y: 0, z: 2 } },
  annPlayers: ["ann"],
  bobSawAnn: "Ann",
  closedError: "GraphwizError:CLIENT_CLOSED",
};
