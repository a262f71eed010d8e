/**
 * [ops] Signals reach the server however it was started. A process manager or container
 * runtime stops a service by signalling the PID it started — here `npm start` (npm → sh → bun),
 * `bun run start`, `npm run start:deno`, `deno task start` and `npm run start:node`. The server
 * must drain and exit; it must never be left running as an orphan.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { ensureNodeBundle } from "../helpers/build.ts";
import { ROOT, startServer } from "../helpers/server.ts";

/** PIDs of the processes that have a listening TCP socket on 127.0.0.1:`port` (from /proc). */
function pidsListening(port: number): number[] {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(hex) && f[3] === "0A") inodes.add(f[9]!); // 0A = LISTEN
    }
  }
  const pids: number[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) pids.push(Number(pid));
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return [...new Set(pids)];
}

const refused = async (url: string) => fetch(url).then(() => false, () => true);

const bin = (name: string) => join(ROOT, "node_modules/.bin", name);
const STARTS: [string, string[]][] = [
  ["npm start", ["npm", "start"]],
  ["bun run start", [bin("bun"), "run", "start"]],
  ["npm run start:deno", ["npm", "run", "start:deno"]],
  ["deno task start", [bin("deno"), "task", "start"]],
  ["npm run start:node", ["npm", "run", "start:node"]],
];

describe("a signal to the PID that started the server stops the server (no orphan)", () => {
  test.each(STARTS)("%s, killed with SIGTERM by its PID: the server drains and exits", async (_name, command) => {
    await ensureNodeBundle();
    const s = await startServer("bun", {}, { command, timeoutMs: 30_000 });
    const server = pidsListening(s.port);
    try {
      expect(server.length).toBe(1);
      expect(server[0]).not.toBe(s.proc.pid); // there is a launcher in between: the case that orphaned
      expect((await fetch(`${s.http}/health`)).status).toBe(200);
      s.proc.kill("SIGTERM");
      await s.exited;
      const deadline = Date.now() + 10_000;
      while (!(await refused(`${s.http}/health`)) && Date.now() < deadline) await Bun.sleep(100);
      expect(await refused(`${s.http}/health`)).toBe(true);
      expect(pidsListening(s.port)).toEqual([]);
      await Bun.sleep(200); // the last log lines
      expect(s.lines.some((l) => l.includes('"event":"shutdown"'))).toBe(true); // drained, not just killed
    } finally {
      // Never leave an orphan behind: only the server process this test started, if it is still there.
      for (const pid of pidsListening(s.port).filter((p) => server.includes(p))) process.kill(pid, "SIGKILL");
    }
  }, 60_000);
});
