/**
 * Opening many benchmark connections at once, with a bounded number of handshakes in flight.
 * @module
 */
import type { WsConn } from "./wsclient.ts";

/**
 * Opens `conns` with at most `concurrency` handshakes outstanding; resolves when every one is
 * ready or failed. Returns the number that failed.
 */
export async function openAll(conns: WsConn[], concurrency: number, deadlineMs = 60_000): Promise<number> {
  let next = 0;
  let failed = 0;
  const deadline = performance.now() + deadlineMs;
  const worker = async () => {
    while (next < conns.length) {
      const c = conns[next++];
      if (performance.now() > deadline) {
        c.fail("not started before the deadline");
        failed++;
        continue;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((_, rej) => {
        timer = setTimeout(() => rej(new Error("handshake timed out after 15 s")), 15_000);
      });
      try {
        await Promise.race([c.connect(), timeout]);
      } catch (e) {
        c.fail((e as Error).message);
        failed++;
      } finally {
        clearTimeout(timer);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, conns.length) }, worker));
  return failed;
}
