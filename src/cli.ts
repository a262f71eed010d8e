/**
 * The command line, the same on every build (Bun, Deno, the Node bundle, the compiled binary):
 * `--help`, `--version`, `--check-config` and `--settings-file PATH`. Runtime-neutral: the host passes
 * its arguments in and writes the lines this module returns. Settings stay environment variables.
 * @module
 */
import { GROUPS, SETTINGS, type Config, type Setting } from "./config.ts";
import { redact } from "./config-values.ts";
import { SERVER_VERSION } from "./version.ts";

/** What the command line asks for. */
export interface Command {
  action: "serve" | "help" | "version" | "check";
  /** `--settings-file PATH`, when given. */
  settingsFile?: string;
}

/** An argument error: one line for standard error, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

const ACTIONS: Record<string, Command["action"]> = {
  "-h": "help", "--help": "help", help: "help",
  "-v": "version", "-V": "version", "--version": "version", version: "version",
  "--check-config": "check",
};

/**
 * Reads the arguments (after the program and script names).
 * @throws {UsageError} on an unknown argument or a missing `--settings-file` path.
 */
export function parseArgs(argv: readonly string[]): Command {
  const cmd: Command = { action: "serve" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--settings-file" || a.startsWith("--settings-file=")) {
      const path = a === "--settings-file" ? argv[++i] : a.slice("--settings-file=".length);
      if (!path) throw new UsageError("--settings-file needs a path: --settings-file /etc/graphwiz-ws.env");
      cmd.settingsFile = path;
    } else if (ACTIONS[a]) {
      if (cmd.action === "serve") cmd.action = ACTIONS[a];
    } else if (a.startsWith("--env-file")) {
      // Node 20 itself grabs --env-file even after the script name, so the server's flag has another name.
      throw new UsageError(`Unknown argument ${JSON.stringify(a.slice(0, 60))}: use --settings-file PATH (or SETTINGS_FILE=PATH)`);
    } else if (a !== "--") {
      const hint = /^--?[a-z-]+=?/i.test(a) ? "; settings are environment variables, e.g. PORT=8080" : "";
      throw new UsageError(`Unknown argument ${JSON.stringify(a.slice(0, 60))} (see --help${hint})`);
    }
  }
  return cmd;
}

/** `graphwiz-ws 0.1.0 (bun 1.4.5)`. */
export function versionLine(runtime: string, runtimeVersion: string): string {
  return `graphwiz-ws ${SERVER_VERSION} (${runtime} ${runtimeVersion})`;
}

const shownDefault = (s: Setting<unknown>): string =>
  Array.isArray(s.default) ? (s.default.length ? s.default.join(",") : "(none)") : s.default === "" ? "(none)" : String(s.default);

/** The help text, one string per line: usage, options, every setting by group, rules, exit codes. */
export function helpLines(): string[] {
  const L = [
    `graphwiz-ws ${SERVER_VERSION}: real-time presence and room-broadcast WebSocket server`,
    "",
    "Usage: graphwiz-ws [--settings-file PATH] [--check-config | --help | --version]",
    "  Every build takes the same arguments: ./graphwiz-ws, bun run start --, deno task start,",
    "  node dist/graphwiz-ws.mjs. Settings are environment variables (below).",
    "",
    "Options:",
    "  -h, --help              Print this help and exit.",
    "  -v, --version           Print the version, the runtime and its version, and exit.",
    "  --check-config          Check the settings, print the effective configuration (secrets masked);",
    "                          exit 0 when valid, 2 when not. Connects to nothing.",
    "  --settings-file PATH    Also read settings from a KEY=VALUE file (same as SETTINGS_FILE=PATH);",
    "                          variables set in the real environment win. No .env file is ever read",
    "                          unless named here.",
    "",
    "Environment (NAME=default, then what it accepts):",
  ];
  const all = Object.values(SETTINGS) as Setting<unknown>[];
  for (const group of GROUPS) {
    L.push("", `${group}:`);
    for (const s of all.filter((x) => x.group === group)) {
      L.push(`  ${`${s.env}=${shownDefault(s)}`.padEnd(38)} ${s.accepts}`, `      ${s.doc}`);
    }
  }
  L.push(
    "",
    "Rules between settings: NODE_TTL_MS >= 2 x NODE_HEARTBEAT_MS; SLOW_CONSUMER_SOFT_BYTES <",
    "  SLOW_CONSUMER_HARD_BYTES; at most one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL; JWT_* and AUTH_*",
    "  only with a key; NODE_ENV=production needs a key; REDIS_SENTINELS needs REDIS_SENTINEL_NAME and",
    "  excludes REDIS_CLUSTER_NODES.",
    "",
    "Exit codes: 0 stopped cleanly (SIGTERM/SIGINT drain) or help/version/valid config; 1 environment",
    "  (port in use, Redis unreachable, missing build); 2 configuration or arguments. Every start-up",
    "  failure is one line on standard error naming what to change.",
    "Docs: README.md, docs/config.md, docs/deploy.md.",
  );
  return L;
}

/** How `--check-config` shows one value: secrets masked, URLs without passwords. */
function shown(s: Setting<unknown>, value: unknown): string {
  if (Array.isArray(value)) return value.length ? value.join(",") : "(none)";
  if (value === "") return "(none)";
  if (s.env === "REDIS_URL") return redact(String(value));
  if (s.secret) return "********";
  if (s.env === "JWT_PUBLIC_KEY") return `(PEM public key, ${String(value).length} characters)`;
  return String(value);
}

/** Where a setting's value came from. */
export type Source = "environment" | "settings file" | "default";

/** What `--check-config` prints for valid settings: a summary, then every setting and where it came from. */
export function configReport(
  config: Config,
  opts: { runtime: string; runtimeVersion: string; auth: string; cluster: string; settingsFile?: string; sourceOf: (name: string) => Source },
): string[] {
  const L = [
    `${versionLine(opts.runtime, opts.runtimeVersion)}: the configuration is valid`,
    `authentication: ${opts.auth}; cluster: ${opts.cluster}${opts.settingsFile ? `; settings file: ${opts.settingsFile}` : ""}`,
  ];
  for (const [key, s] of Object.entries(SETTINGS) as [keyof Config, Setting<unknown>][]) {
    const source = opts.sourceOf(s.env);
    L.push(`${s.env}=${shown(s, config[key])}${source === "environment" ? "" : `  # ${source}`}`);
  }
  return L;
}
