/** Small helpers the cluster tests share (not a test file: bun runs only *.test.ts). */
import type { Holder, MemberInfo } from "../../src/cluster/types.ts";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `cond` (sync or async) every few ms until true; throws naming `what` after `timeoutMs`
 * (by default within bun's 5 s test timeout: a test that times out gets its child processes
 * killed — the file's redis-servers with them).
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
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

/** An attached holder: `token` held through connection `conn` (default: the token itself, a plain client) on `node`. */
export const holder = (user: string | null, token: string, node = "node-a", conn = token): Holder => ({ user, token, node, conn });

/** A 4-byte big-endian frame carrying `n`, and back. */
export const u32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
export const readU32 = (f: Uint8Array) => ((f[0]! << 24) | (f[1]! << 16) | (f[2]! << 8) | f[3]!) >>> 0;

/** UTF-8 bytes of `s`, and back. */
export const bytes = (s: string) => new TextEncoder().encode(s);
export const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** The texts of a list of byte strings, sorted (stores return them in no particular order). */
export const texts = (xs: Uint8Array[]) => xs.map(text).sort();

/**
 * What `f` threw or rejected with (sync or async), or `undefined` when it succeeded: the memory
 * backend throws synchronously where Redis rejects.
 */
export async function failure(f: () => unknown): Promise<unknown> {
  try {
    await f();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** Collects unhandled rejections while a test file runs (install in beforeAll, remove in afterAll). */
export function unhandledRejections(): { list: unknown[]; install(): void; remove(): void } {
  const list: unknown[] = [];
  const on = (e: unknown) => list.push(e);
  return { list, install: () => process.on("unhandledRejection", on), remove: () => process.off("unhandledRejection", on) };
}
