/**
 * [ops] `rediss://` (TLS) as docs/deploy.md describes it: a private redis-server with only a TLS
 * port and a certificate from a CA made here; every runtime trusts that CA through its usual
 * variable (NODE_EXTRA_CA_CERTS for Node and Bun, DENO_CERT for Deno) and shares one room over
 * TLS. Without the CA, start-up fails with one line (exit 1).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageType } from "../../src/protocol/types.ts";
import { runToEnd } from "../helpers/builds.ts";
import { eventually } from "../helpers/client.ts";
import { freePort, redisServerBinary } from "../helpers/redis.ts";
import { RUNTIMES, serverCommand, startServer, type RunningServer } from "../helpers/server.ts";
import { sdk } from "../helpers/sdk.ts";

const dir = mkdtempSync(join(tmpdir(), "graphwiz-tls-"));
const f = (name: string) => join(dir, name);
let redis: ChildProcess | undefined;
let port = 0;

/** A CA, and a certificate for 127.0.0.1 signed by it (openssl). */
function makeCertificates(): void {
  const run = (args: string[]) => {
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=graphwiz test CA"]);
  run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "redis.key", "-out", "redis.csr", "-subj", "/CN=127.0.0.1"]);
  writeFileSync(f("san.ext"), "subjectAltName=IP:127.0.0.1\n");
  run(["x509", "-req", "-in", "redis.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "redis.pem", "-days", "2", "-extfile", "san.ext"]);
}

beforeAll(async () => {
  makeCertificates();
  port = await freePort();
  redis = spawn(redisServerBinary(), [
    "--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1", "--tls-cert-file", f("redis.pem"), "--tls-key-file", f("redis.key"),
    "--tls-ca-cert-file", f("ca.pem"), "--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning",
  ], { stdio: "ignore" });
  await eventually(() => new Promise<boolean>((resolve) => {
    const s = connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
    s.on("error", () => resolve(false));
  }), 5000, "redis-server's TLS port");
}, 30_000);
afterAll(() => {
  redis?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("Redis over TLS (rediss://)", () => {
  test("every runtime, trusting the CA, shares one room over TLS", async () => {
    const env = { REDIS_URL: `rediss://127.0.0.1:${port}`, NODE_EXTRA_CA_CERTS: f("ca.pem"), DENO_CERT: f("ca.pem") };
    const settled = await Promise.allSettled(RUNTIMES.map((rt) => startServer(rt, { ...env, NODE_ID: `tls-${rt}` })));
    const servers: RunningServer[] = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    try {
      expect(servers.length, settled.map((r) => (r.status === "rejected" ? String(r.reason) : "")).join(" ")).toBe(RUNTIMES.length);
      for (const s of servers) expect((await (await fetch(`${s.http}/health`)).json()).cluster).toEqual({ backend: "redis", healthy: true });
      const members = await Promise.all(servers.map((s, i) => sdk(s.ws, "tls-room", { clientId: `t${i}` })));
      await members[0]!.waitFor(() => members.every((m) => members[0]!.client.players.has(m.client.clientId!)), "every member (in its hello or as a join: the three connect at once)");
      members[0]!.client.sendChat("over tls");
      for (const m of members.slice(1)) await m.nOf(MessageType.CHAT_MESSAGE, 1);
      for (const m of members) m.client.close();
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }, 60_000);

  test("without the CA the certificate is refused: one line, exit 1", async () => {
    const o = await runToEnd(await serverCommand(RUNTIMES[0]!), { REDIS_URL: `rediss://127.0.0.1:${port}`, REDIS_CONNECT_TIMEOUT_MS: "3000" }, { timeoutMs: 30_000 });
    expect(o.code).toBe(1);
    expect(o.errLines).toHaveLength(1);
    expect(o.errLines[0]).toStartWith(`graphwiz-ws: Redis at rediss://127.0.0.1:${port} is not reachable after 3000 ms`);
    expect(o.errLines[0]).toMatch(/certificate/i);
  }, 40_000);
});
