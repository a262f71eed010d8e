/**
 * [guarantees] Finding 7: docs/close-codes.md — "Before the server closes a connection for a
 * reason of its own, it sends an ERROR frame carrying the same close_code and reason". SIGTERM
 * (the drain) today closes with 1001 and no ERROR frame. Real servers, every runtime.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeBinary } from "../../src/protocol/proto.ts";
import { MessageType } from "../../src/protocol/types.ts";
import { join } from "../helpers/client.ts";
import { RUNTIMES, startServer, type RunningServer } from "../helpers/server.ts";

for (const rt of RUNTIMES) {
  describe(`[finding 7] ${rt}`, () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer(rt, { DRAIN_TIMEOUT_MS: "3000" });
    });
    afterAll(async () => {
      await server?.stop("SIGKILL");
    });

    test("SIGTERM: every client gets an ERROR frame with close_code 1001 right before its 1001 close (JSON and protobuf)", async () => {
      const json = await join(server.ws, "drain", "client_id=j");
      const pb = await join(server.ws, "drain", "client_id=p&format=protobuf");
      await pb.frames(2); // the JSON hello, then the binary one
      server.proc.kill("SIGTERM");
      const [jc, pc] = await Promise.all([json.closedP, pb.closedP]);
      expect(jc.code).toBe(1001);
      expect(pc.code).toBe(1001);
      const lastJson = JSON.parse(json.inbox.at(-1) as string);
      expect(lastJson).toMatchObject({ type: "ERROR", close_code: 1001 });
      const lastPb = pb.inbox.at(-1)!;
      expect(typeof lastPb).not.toBe("string");
      const err = decodeBinary(lastPb as Uint8Array);
      expect(err.type).toBe(MessageType.ERROR);
      expect(err.error?.close_code).toBe(1001);
      expect(await server.exited).toBe(0);
    }, 20_000);
  });
}
