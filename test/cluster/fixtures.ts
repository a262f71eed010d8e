/** Small helpers the cluster tests share (not a test file: bun runs only *.test.ts). */
import type { MemberInfo } from "../../src/cluster/types.ts";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` (sync or async) every few ms until true; throws naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** A member record (`client` defaults to `client-<conn>`). */
export const member = (node: string, room: string, conn: string, client = `client-${conn}`): MemberInfo => ({
  connection_id: conn,
  room_id: room,
  user_id: null,
  client_id: client,
  display_name: client,
  node_id: node,
  connected_at: "2026-01-01T00:00:00.000Z",
});

/** A 4-byte big-endian frame carrying `n`, and back. */
export const u32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
export const readU32 = (f: Uint8Array) => ((f[0]! << 24) | (f[1]! << 16) | (f[2]! << 8) | f[3]!) >>> 0;

/** Collects unhandled rejections while a test file runs (install in beforeAll, remove in afterAll). */
export function unhandledRejections(): { list: unknown[]; install(): void; remove(): void } {
  const list: unknown[] = [];
  const on = (e: unknown) => list.push(e);
  return { list, install: () => process.on("unhandledRejection", on), remove: () => process.off("unhandledRejection", on) };
}
