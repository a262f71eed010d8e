/**
 * Start-up failures as one line naming what to change, with the exit code: 2 for the
 * configuration or arguments, 1 for the environment (port in use, Redis unreachable). The same
 * text on every runtime, whatever shape of error the runtime threw.
 * @module
 */
import { ConfigError, type Config } from "./config.ts";
import { isIpLiteral } from "./config-values.ts";

/** A start-up failure: the line to print (without the `graphwiz-ws: ` prefix) and the exit code. */
export class StartupError extends Error {
  override name = "StartupError";
  constructor(readonly exitCode: 1 | 2, message: string) {
    super(oneLine(message));
  }
}

/** Collapses a message to one line (runtime errors sometimes carry several). */
export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, " ").trim().slice(0, 1000);
}

/** The exit code and line for any error thrown during start-up. */
export function asStartupError(e: unknown): StartupError {
  if (e instanceof StartupError) return e;
  if (e instanceof ConfigError) return new StartupError(2, e.message);
  if (e instanceof Error && e.name === "UsageError") return new StartupError(2, e.message);
  const msg = e instanceof Error ? e.message : String(e);
  return new StartupError(1, `Start-up failed: ${msg || "unknown error"}`);
}

const errCode = (e: unknown): string | undefined => {
  const err = e as { code?: unknown; name?: unknown } | undefined;
  if (typeof err?.code === "string") return err.code;
  // Deno names its errors instead of giving codes.
  const byName: Record<string, string> = { AddrInUse: "EADDRINUSE", AddrNotAvailable: "EADDRNOTAVAIL", PermissionDenied: "EACCES" };
  return typeof err?.name === "string" ? byName[err.name] : undefined;
};

/** Why listening on HOST:PORT failed, as one line. */
export function listenFailure(e: unknown, host: string, port: number): StartupError {
  const code = errCode(e);
  const msg = e instanceof Error ? e.message : String(e);
  const literal = isIpLiteral(host) || host === "localhost";
  if (code === "EADDRINUSE" && (port !== 0 || literal)) {
    return new StartupError(1, `Port ${port} on ${host} is already in use: stop the other process, or set PORT to a free port (0 picks one)`);
  }
  if (code === "EACCES") {
    return new StartupError(1, `Not allowed to listen on port ${port}: set PORT to 1024 or above, or grant the process the right to bind low ports`);
  }
  // Runtimes report a name that does not resolve differently: ENOTFOUND (Node), a lookup
  // message (Deno), EINVAL or EADDRINUSE (Bun, which boot avoids by resolving first). The fix is the same.
  if (code === "EADDRNOTAVAIL" || !literal) return badHost(host);
  return new StartupError(1, `Cannot listen on ${host}:${port}: ${msg}`);
}

/** HOST is not an address of this machine, or a name that does not resolve. */
export function badHost(host: string): StartupError {
  return new StartupError(2, `Invalid HOST: cannot listen on ${JSON.stringify(host)}: it is neither an address of this machine nor a name that resolves to one (use 0.0.0.0 for every address, 127.0.0.1 for this machine only)`);
}

/** Which variables say where Redis is, for the "check …" hint. */
export function redisVariables(config: Config): string {
  if (config.redisSentinels.length) return "REDIS_SENTINELS, REDIS_SENTINEL_NAME and the passwords";
  if (config.redisClusterNodes.length) return "REDIS_CLUSTER_NODES";
  return "REDIS_URL";
}

/** Redis (or its Sentinels, or a Cluster) could not be reached at start-up. */
export function redisFailure(e: unknown, config: Config): StartupError {
  const msg = e instanceof Error ? e.message : String(e);
  return new StartupError(1, `${msg} (check ${redisVariables(config)}, and that Redis is running and reachable from here)`);
}

/** Auth option names (as the auth module words them) → the variables an operator sets. */
const AUTH_VARS: [RegExp, string][] = [
  [/^secret\b/, "JWT_SECRET"],
  [/^publicKey\b/, "JWT_PUBLIC_KEY"],
  [/^jwksUrl\b/, "JWT_JWKS_URL"],
  [/^algorithms?\b/i, "JWT_ALGORITHMS"],
  [/^issuer\b/, "JWT_ISSUER"],
  [/^audience\b/, "JWT_AUDIENCE"],
  [/^leewaySec\b/, "JWT_LEEWAY_S"],
];
const RENAMED: [RegExp, string][] = [[/\bpublicKey\b/g, "JWT_PUBLIC_KEY"], [/\bjwksUrl\b/g, "JWT_JWKS_URL"], [/\bleewaySec\b/g, "JWT_LEEWAY_S"]];

/**
 * Turns the auth module's reason (worded with option names: `secret`, `publicKey`, …) into a
 * configuration error naming the variable: the option the reason starts with, else the
 * algorithms when it is about an algorithm, else the key source in use (a PEM that does not parse).
 */
export function authFailure(reason: string, config: Config): ConfigError {
  const lead = AUTH_VARS.find(([re]) => re.test(reason));
  const source = config.jwtSecret ? "JWT_SECRET" : config.jwtPublicKey ? "JWT_PUBLIC_KEY" : "JWT_JWKS_URL";
  const variable = lead?.[1] ?? (/\balgorithm\b/i.test(reason) ? "JWT_ALGORITHMS" : source);
  let text = lead ? reason.replace(lead[0], "").trim() : reason;
  for (const [re, v] of RENAMED) text = text.replace(re, v);
  if (/^[A-Z][a-z]/.test(text)) text = text.charAt(0).toLowerCase() + text.slice(1);
  return new ConfigError(variable, text);
}
