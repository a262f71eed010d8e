/**
 * [ops] Settings that refuse nonsense: formats and ranges of single values, the rules between
 * settings, the `.env` file format, the command line, and the mapping of runtime errors to one
 * line naming what to change. (The same cases on every real build: test/ops/startup.test.ts.)
 */
import { describe, expect, test } from "bun:test";
import { configReport, helpLines, parseArgs, UsageError } from "../../src/cli.ts";
import { ConfigError, GROUPS, loadConfig, SETTINGS } from "../../src/config.ts";
import { isIpLiteral } from "../../src/config-values.ts";
import { parseEnvFile, withFileVariables } from "../../src/env-file.ts";
import { authFailure, listenFailure } from "../../src/startup.ts";

const err = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
};
const SECRET = "s".repeat(32);

describe("single values", () => {
  test("NODE_ID: 1-64 characters without spaces", () => {
    expect(loadConfig({ NODE_ID: "n".repeat(64) }).nodeId).toHaveLength(64);
    expect(err({ NODE_ID: "n".repeat(65) })).toStartWith("Invalid NODE_ID: must be 1-64");
    expect(err({ NODE_ID: "a b" })).toStartWith("Invalid NODE_ID:");
  });

  test("HOST is an IP address or a host name", () => {
    for (const ok of ["0.0.0.0", "127.0.0.1", "::", "::1", "localhost", "gw-1.internal.example"]) expect(loadConfig({ HOST: ok }).host).toBe(ok);
    for (const bad of ["http://x", "x:80", "a b", "-x", "1.2.3.4.5x_"]) expect(err({ HOST: bad })).toStartWith("Invalid HOST:");
    expect(isIpLiteral("::ffff:1.2.3.4")).toBe(true);
    expect(isIpLiteral("not-a-host")).toBe(false);
  });

  test("ALLOWED_ORIGINS are origins: scheme://host[:port], nothing more; stored as browsers send them", () => {
    expect(loadConfig({ ALLOWED_ORIGINS: "https://App.Example.com, http://localhost:5173,*,capacitor://localhost" }).allowedOrigins)
      .toEqual(["https://app.example.com", "http://localhost:5173", "*", "capacitor://localhost"]);
    expect(loadConfig({ ALLOWED_ORIGINS: "https://a.example:443" }).allowedOrigins).toEqual(["https://a.example"]);
    for (const bad of ["not-an-origin", "https://a.example/app", "https://a.example/", "https://a.example?x=1", "https://u:p@a.example", "a.example"]) {
      expect(err({ ALLOWED_ORIGINS: bad })).toStartWith("Invalid ALLOWED_ORIGINS:");
    }
  });

  test("a blank value is refused, an empty one is unset: METRICS_TOKEN=' ' never leaves /metrics open", () => {
    expect(err({ METRICS_TOKEN: " " })).toBe("Invalid METRICS_TOKEN: is blank: give a value, or unset it");
    expect(err({ METRICS_TOKEN: " tok" })).toStartWith("Invalid METRICS_TOKEN: must not start or end with whitespace");
    expect(loadConfig({ METRICS_TOKEN: "" }).metricsToken).toBe("");
    expect(err({ PORT: "  " })).toStartWith("Invalid PORT: is blank");
  });

  test("REDIS_URL is parsed before anything connects: redis:// and rediss:// only, password never shown", () => {
    expect(loadConfig({ REDIS_URL: "rediss://u:pw@redis.example:6380/2" }).redisUrl).toBe("rediss://u:pw@redis.example:6380/2");
    expect(err({ REDIS_URL: "not-a-url" })).toStartWith("Invalid REDIS_URL: must be a URL like redis://host:6379");
    expect(err({ REDIS_URL: "http://x:6379" })).toBe("Invalid REDIS_URL: must start with redis:// or rediss:// (TLS), got http://");
    expect(err({ REDIS_URL: "redis://x:6379/a/b" })).toStartWith("Invalid REDIS_URL: path must be a database number");
    expect(err({ REDIS_URL: "redis:///0" })).toStartWith("Invalid REDIS_URL: has no host");
    expect(err({ REDIS_URL: "ftp://u:hunter2@x" })).not.toContain("hunter2");
  });

  test("REDIS_CLUSTER_NODES and REDIS_SENTINELS are host:port lists; the variable is named", () => {
    expect(err({ REDIS_CLUSTER_NODES: "garbage" })).toBe('Invalid REDIS_CLUSTER_NODES: "garbage" is not host:port (IPv6 as [::1]:7000)');
    expect(err({ REDIS_SENTINELS: "a:1,b", REDIS_SENTINEL_NAME: "m" })).toStartWith('Invalid REDIS_SENTINELS: "b" is not host:port');
    expect(loadConfig({ REDIS_SENTINELS: "a:26379, [::1]:26380", REDIS_SENTINEL_NAME: "m" }).redisSentinels).toEqual(["a:26379", "[::1]:26380"]);
  });

  test("NODE_ENV is trimmed and lower-cased: Production and 'production ' are production", () => {
    expect(loadConfig({ NODE_ENV: "Production ", JWT_SECRET: SECRET }).nodeEnv).toBe("production");
    expect(err({ NODE_ENV: "PRODUCTION" })).toStartWith("Invalid NODE_ENV: production needs JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL");
    expect(err({ NODE_ENV: " production" })).toStartWith("Invalid NODE_ENV:");
  });

  test("every setting's range is enforced at both ends", () => {
    for (const s of Object.values(SETTINGS)) {
      const m = /^(-?\d+)–(\d+)$/.exec(s.accepts);
      if (!m) continue;
      const [min, max] = [Number(m[1]), Number(m[2])];
      expect(() => loadConfig({ [s.env]: String(min - 1) }), s.env).toThrow(`Invalid ${s.env}: must be between ${min} and ${max}`);
      expect(() => loadConfig({ [s.env]: String(max + 1) }), s.env).toThrow(`Invalid ${s.env}`);
    }
    expect(err({ PING_INTERVAL_MS: "-5" })).toBe("Invalid PING_INTERVAL_MS: must be between 1000 and 3600000, got -5");
  });
});

describe("rules between settings", () => {
  test("NODE_TTL_MS at least twice NODE_HEARTBEAT_MS", () => {
    expect(err({ NODE_TTL_MS: "1000", NODE_HEARTBEAT_MS: "2000" })).toStartWith("Invalid NODE_TTL_MS: must be at least twice NODE_HEARTBEAT_MS (2000)");
    expect(loadConfig({ NODE_TTL_MS: "4000", NODE_HEARTBEAT_MS: "2000" }).nodeTtlMs).toBe(4000);
  });
  test("SLOW_CONSUMER_SOFT_BYTES below the hard limit", () => {
    expect(err({ SLOW_CONSUMER_SOFT_BYTES: "2000000" })).toBe("Invalid SLOW_CONSUMER_SOFT_BYTES: must be below SLOW_CONSUMER_HARD_BYTES (1048576), got 2000000");
  });
  test("one key source; JWT and AUTH settings only with a key", () => {
    expect(err({ JWT_SECRET: SECRET, JWT_JWKS_URL: "https://id.example/jwks" })).toBe(
      "Invalid JWT_JWKS_URL: set only one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL (got JWT_SECRET and JWT_JWKS_URL)",
    );
    for (const v of ["JWT_ISSUER", "JWT_AUDIENCE", "JWT_ALGORITHMS", "AUTH_MODE", "JWT_LEEWAY_S", "AUTH_TIMEOUT_MS"]) {
      const value = v === "AUTH_MODE" ? "optional" : v.endsWith("_S") || v.endsWith("_MS") ? "200" : v === "JWT_ALGORITHMS" ? "HS256" : "x";
      expect(err({ [v]: value })).toBe(`Invalid ${v}: only applies with a key, and none is set: set JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL, or unset ${v}`);
      expect(loadConfig({ [v]: value, JWT_SECRET: SECRET })).toBeDefined();
    }
  });
  test("Sentinel settings come together, and not with a Redis Cluster", () => {
    expect(err({ REDIS_SENTINELS: "a:1" })).toStartWith("Invalid REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS");
    expect(err({ REDIS_SENTINEL_NAME: "m" })).toStartWith("Invalid REDIS_SENTINEL_NAME: only applies with REDIS_SENTINELS");
    expect(err({ REDIS_SENTINEL_PASSWORD: "p" })).toStartWith("Invalid REDIS_SENTINEL_PASSWORD: only applies with REDIS_SENTINELS");
    expect(err({ REDIS_SENTINELS: "a:1", REDIS_SENTINEL_NAME: "m", REDIS_CLUSTER_NODES: "b:2" })).toStartWith("Invalid REDIS_SENTINELS: set either");
  });
});

describe("JWT errors name the variables", () => {
  const cfg = (env: Record<string, string>) => loadConfig(env);
  test("option names become JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL, JWT_ALGORITHMS", () => {
    expect(authFailure("secret looks like a PEM key; pass it as publicKey instead", cfg({ JWT_SECRET: SECRET })).message).toBe(
      "Invalid JWT_SECRET: looks like a PEM key; pass it as JWT_PUBLIC_KEY instead",
    );
    expect(authFailure("publicKey holds a private key; give the public key", cfg({ JWT_PUBLIC_KEY: "x" })).message).toBe("Invalid JWT_PUBLIC_KEY: holds a private key; give the public key");
    expect(authFailure("jwksUrl must use https (plain http is allowed only for localhost)", cfg({ JWT_JWKS_URL: "http://x" })).message).toStartWith("Invalid JWT_JWKS_URL: must use https");
    expect(authFailure("Algorithm none is never allowed", cfg({ JWT_SECRET: SECRET })).message).toBe("Invalid JWT_ALGORITHMS: none is never allowed");
    expect(authFailure('Unknown algorithm "XS1" (known: HS256)', cfg({ JWT_SECRET: SECRET })).message).toBe('Invalid JWT_ALGORITHMS: unknown algorithm "XS1" (known: HS256)');
  });
});

describe("listen failures: one line, the same whatever the runtime threw", () => {
  const inUse = "Port 8083 on 127.0.0.1 is already in use: stop the other process, or set PORT to a free port (0 picks one)";
  test("port in use: Node's code, Deno's error name, Bun's message", () => {
    expect(listenFailure(Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE" }), "127.0.0.1", 8083)).toMatchObject({ exitCode: 1, message: inUse });
    expect(listenFailure(Object.assign(new Error("Address already in use (os error 98)"), { name: "AddrInUse" }), "127.0.0.1", 8083).message).toBe(inUse);
  });
  test("a bad HOST is exit 2 naming HOST, however it was reported", () => {
    const cases = [
      Object.assign(new Error("getaddrinfo ENOTFOUND not-a-host"), { code: "ENOTFOUND" }),
      new Error("failed to lookup address information: Name or service not known"),
      Object.assign(new Error("EINVAL: invalid argument, listen"), { code: "EINVAL" }),
    ];
    const lines = cases.map((e) => listenFailure(e, "not-a-host", 8083));
    for (const l of lines) expect(l).toMatchObject({ exitCode: 2, message: lines[0]!.message });
    expect(lines[0]!.message).toStartWith('Invalid HOST: cannot listen on "not-a-host"');
    expect(listenFailure(Object.assign(new Error("x"), { code: "EADDRNOTAVAIL" }), "10.9.9.9", 1).message).toStartWith('Invalid HOST: cannot listen on "10.9.9.9"');
  });
});

describe(".env files", () => {
  test("KEY=VALUE lines with comments, export, quotes and escapes; a bad line is named", () => {
    expect(parseEnvFile('# c\n\nexport PORT=9000\nA="x\\ny" # note\nB=\'$raw\'\nC=plain # trailing\nD=\n')).toEqual({ PORT: "9000", A: "x\ny", B: "$raw", C: "plain", D: "" });
    expect(() => parseEnvFile("PORT=1\nthis is not\n")).toThrow("line 2 is not KEY=VALUE");
    expect(() => parseEnvFile('A="open\n')).toThrow("line 1 has an unterminated double quote");
  });
  test("the real environment wins over the file (an empty real value does not)", () => {
    expect(withFileVariables({ PORT: "1", HOST: "" }, { PORT: "2", HOST: "h", X: "3" })).toEqual({ PORT: "1", HOST: "h", X: "3" });
  });
});

describe("command line", () => {
  test("help, version, check-config, env-file; unknown arguments refused", () => {
    expect(parseArgs([])).toEqual({ action: "serve" });
    for (const a of ["-h", "--help", "help"]) expect(parseArgs([a]).action).toBe("help");
    for (const a of ["-v", "--version", "version"]) expect(parseArgs([a]).action).toBe("version");
    expect(parseArgs(["--check-config", "--settings-file", "/x"])).toEqual({ action: "check", settingsFile: "/x" });
    expect(parseArgs(["--settings-file=/y"])).toEqual({ action: "serve", settingsFile: "/y" });
    expect(() => parseArgs(["--port=80"])).toThrow(UsageError);
    expect(() => parseArgs(["--port=80"])).toThrow('Unknown argument "--port=80" (see --help; settings are environment variables, e.g. PORT=8080)');
    expect(() => parseArgs(["--settings-file"])).toThrow("--settings-file needs a path");
  });
  test("help lists every setting with its default and range, grouped", () => {
    const text = helpLines().join("\n");
    for (const g of GROUPS) expect(text).toContain(`\n${g}:\n`);
    for (const s of Object.values(SETTINGS)) expect(text).toMatch(new RegExp(`\\n  ${s.env}=\\S+ +${s.accepts.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n`));
  });
  test("check-config masks secrets and the Redis password", () => {
    const config = loadConfig({ JWT_SECRET: SECRET, METRICS_TOKEN: "tok-123", REDIS_URL: "redis://u:hunter2@h:1" });
    const out = configReport(config, { runtime: "bun", runtimeVersion: "1", auth: "required", cluster: "x", sourceOf: () => "environment" }).join("\n");
    for (const secret of [SECRET, "tok-123", "hunter2"]) expect(out).not.toContain(secret);
    expect(out).toContain("REDIS_URL=redis://u:***@h:1");
    expect(out).toContain("JWT_SECRET=********");
  });
});
