/**
 * After a connect burst each adapter runs one collection (src/lib/burst.ts: Bun.gc and Bun.shrink, V8's
 * memory-reducing collection on Node). The server must go on serving: every socket of the burst
 * stays open, and a chat still goes round. (A first version blocked Node's main thread for good
 * after the collection; this test fails on it.)
 */
import { describe, expect, test } from "bun:test";
import { BURST_OPENS, BURST_QUIET_MS } from "../../src/lib/burst.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { TestClient } from "../helpers/client.ts";
import { RUNTIMES, startServer } from "../helpers/server.ts";
import { sdk } from "../helpers/sdk.ts";

describe.each(RUNTIMES)("after a connect burst on %s", (runtime) => {
  test(`${BURST_OPENS + 20} sockets at once, then quiet: all stay open and the server still serves`, async () => {
    const s = await startServer(runtime, { CONNECT_RATE_LIMIT: "0" });
    const burst: TestClient[] = [];
    try {
      for (let i = 0; i < BURST_OPENS + 20; i++) burst.push(new TestClient(`${s.ws}/ws/burst-${i % 20}`));
      await Promise.all(burst.map((c) => c.frames(1, 20_000))); // every hello
      await Bun.sleep(4 * BURST_QUIET_MS); // the burst is over and collected
      const a = await sdk(s.ws, "after-burst", { clientId: "a" });
      const b = await sdk(s.ws, "after-burst", { clientId: "b", format: "protobuf" });
      a.client.sendChat("still here");
      await b.waitFor(() => b.ofType(MessageType.CHAT_MESSAGE).some((m) => m.chat_message!.message === "still here"), "a chat after the burst");
      expect((await fetch(`${s.http}/health`)).status).toBe(200);
      expect(burst.filter((c) => c.closeEvent).map((c) => c.closeEvent)).toEqual([]);
      a.client.close();
      b.client.close();
    } finally {
      for (const c of burst) c.ws.close();
      await s.stop();
    }
  }, 60_000);
});
