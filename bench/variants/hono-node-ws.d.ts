// The types the comparison variant uses from @hono/node-ws (installed only into .bench-tmp/ by hono-ws.sh).
declare module "@hono/node-ws" {
  import type { Hono } from "hono";
  import type { Server } from "node:http";
  export function createNodeWebSocket(init: { app: Hono; baseUrl?: string }): {
    upgradeWebSocket: (...args: unknown[]) => unknown;
    injectWebSocket(server: Server | unknown): void;
  };
}
