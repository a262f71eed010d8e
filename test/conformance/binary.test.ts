/** The single executable from `npm run compile` runs alone in an empty directory. */
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { join } from "../helpers/client.ts";
import { ensureBinary } from "../helpers/build.ts";
import { startServer, type RunningServer } from "../helpers/server.ts";

const dir = mkdtempSync(joinPath(tmpdir(), "graphwiz-bin-"));
let s: RunningServer | undefined;
afterAll(async () => {
  await s?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("compiled binary: hello and one broadcast from an empty directory", async () => {
  const out = joinPath(dir, "graphwiz-ws");
  copyFileSync(await ensureBinary(), out); // `npm run compile`'s output, moved where nothing else is
  Bun.spawnSync(["chmod", "+x", out]);
  s = await startServer("binary", {}, { binary: out, cwd: dir });
  const a = await join(s.ws, "bin-room", "client_id=a");
  const b = await join(s.ws, "bin-room", "client_id=b");
  expect(JSON.parse(a.inbox[0] as string)).toMatchObject({ type: "SERVER_HELLO", room_id: "bin-room", client_id: "a" });
  a.send("from-binary");
  await b.until((box) => box.includes("from-binary"));
  expect(a.inbox.includes("from-binary")).toBe(false);
}, 120_000);
