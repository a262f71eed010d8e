/** Shared by the hostile suites: the server's resident memory, and proof that it still serves. */
import { expect } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "../helpers/client.ts";
import type { RunningServer } from "../helpers/server.ts";

/** The server process' resident set size in MB (Linux /proc). */
export function rssMb(s: RunningServer): number {
  const status = readFileSync(`/proc/${s.proc.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** The server is alive and serving: /health answers, and a fresh joiner of `room` gets its hello within 2 s. */
export async function stillServes(s: RunningServer, room = `probe-${crypto.randomUUID().slice(0, 6)}`): Promise<void> {
  expect(s.proc.exitCode).toBeNull();
  expect((await fetch(`${s.http}/health`)).status).toBe(200);
  const t0 = Date.now();
  const c = await join(s.ws, room);
  expect(JSON.parse(c.inbox[0] as string).type).toBe("SERVER_HELLO");
  expect(Date.now() - t0).toBeLessThan(2000);
  await c.close();
}

/** The JSON frames of `inbox` (parsed). */
export const jsonFrames = (inbox: (string | Uint8Array)[]) => inbox.flatMap((f) => (typeof f === "string" ? [JSON.parse(f)] : []));
