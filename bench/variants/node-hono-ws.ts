/**
 * A comparison variant, not the product: our server on Node with `@hono/node-ws` (the upgrade
 * helper adapters/node-ws.ts replaced) instead of our own, to measure what each costs per idle
 * connection. Built and run by `bench/variants/hono-ws.sh` (installs @hono/node-ws into
 * .bench-tmp/, bundles this file, runs the idle scenario against both). Reaches into `ws`'
 * socket (`_socket`): fine for a measurement, not for the product.
 * @module
 */
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { createNodeWebSocket } from "@hono/node-ws";
import type { Hono } from "hono";
import type { Duplex } from "node:stream";
import { NodeTransport } from "../../adapters/node-host.ts";
import { processHost } from "../../adapters/process-host.ts";
import { boot } from "../../src/boot.ts";
import { LoopFanout } from "../../src/lib/loop-fanout.ts";

let helper: ReturnType<typeof createNodeWebSocket> | undefined;
type Raw = ConstructorParameters<typeof NodeTransport>[0] & { __transport?: NodeTransport; _socket: Duplex };

await boot({
  runtime: "node",
  runtimeVersion: process.versions.node,
  ...processHost(),
  fanout: new LoopFanout(),
  // The app is only known at listen time; the helper is made there (before any upgrade).
  upgradeWebSocket: ((c: never, events: never, opts: never) => helper!.upgradeWebSocket(c, events, opts)) as never,
  remoteAddress: (c) => getConnInfo(c).remote.address,
  transportOf: (raw) => ((raw as Raw).__transport ??= new NodeTransport(raw as Raw, (raw as Raw)._socket)),
  listen(app: Hono, _server, config) {
    helper = createNodeWebSocket({ app });
    return new Promise((resolve, reject) => {
      const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) =>
        resolve({ port: info.port, stopAccepting: () => void server.close() }));
      server.once("error", reject);
      helper!.injectWebSocket(server);
    });
  },
});
