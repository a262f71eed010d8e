/**
 * The value kinds of the settings in `config.ts`: each turns an environment string into a value
 * and says in a few words what it accepts (shown by `--help` and in docs/config.md). A parser
 * throws an `Error` whose sentence-case message completes "Invalid VARIABLE: …".
 * @module
 */

/** How a raw string becomes a value, and what it accepts. */
export interface Kind<T> {
  /** What the setting accepts, in a few words (ranges included), for `--help` and the docs. */
  accepts: string;
  /** Turns the raw string into the value; throws an `Error` saying what is wrong. */
  parse: (raw: string) => T;
}

const show = (raw: string) => JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw);

/** A whole number from `min` to `max`. */
export const int = (min: number, max: number): Kind<number> => ({
  accepts: `${min}–${max}`,
  parse(raw) {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be a whole number, got ${show(raw)}`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
    return n;
  },
});

/** Any text (checked elsewhere, if at all). */
export const text = (accepts = "text"): Kind<string> => ({ accepts, parse: (raw) => raw });

/** true/false, 1/0, yes/no, on/off (any case). */
export const bool: Kind<boolean> = {
  accepts: "true or false",
  parse(raw) {
    const v = raw.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(v)) return true;
    if (["0", "false", "no", "off"].includes(v)) return false;
    throw new Error(`must be true or false, got ${show(raw)}`);
  },
};

/** One of a few words (any case). */
export const oneOf = <T extends string>(...values: T[]): Kind<T> => ({
  accepts: values.join(", "),
  parse(raw) {
    const v = raw.trim().toLowerCase() as T;
    if (!values.includes(v)) throw new Error(`must be one of ${values.join(", ")}, got ${show(raw)}`);
    return v;
  },
});

/** A comma-separated list (blank entries dropped). */
export const list = (accepts = "comma list"): Kind<string[]> => ({
  accepts,
  parse: (raw) => raw.split(",").map((s) => s.trim()).filter(Boolean),
});

/** Text without whitespace, `min`–`max` characters of printable ASCII. */
export const token = (min: number, max: number, what = "printable ASCII characters without spaces"): Kind<string> => ({
  accepts: `${min}–${max} ${what}`,
  parse(raw) {
    if (!new RegExp(`^[\\x21-\\x7e]{${min},${max}}$`).test(raw)) throw new Error(`must be ${min}-${max} ${what}, got ${show(raw)}`);
    return raw;
  },
});

/** A Redis key prefix: like {@link token}, and without `{` or `}` (those mark Redis Cluster hash tags). */
export const keyPrefix: Kind<string> = {
  accepts: "1–64 printable ASCII characters without spaces, { or }",
  parse(raw) {
    if (!/^[\x21-\x7a|~]{1,64}$/.test(raw)) throw new Error(`must be 1-64 printable ASCII characters without spaces, { or }, got ${show(raw)}`);
    return raw;
  },
};

/** A secret: any text, but never blank and never with whitespace at either end (a copy-paste slip). */
export const secret = (minBytes = 1): Kind<string> => ({
  accepts: minBytes > 1 ? `at least ${minBytes} bytes` : "non-blank text",
  parse(raw) {
    if (raw.trim() !== raw) throw new Error("must not start or end with whitespace");
    if (new TextEncoder().encode(raw).length < minBytes) throw new Error(`must be at least ${minBytes} bytes long`);
    return raw;
  },
});

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** True for an IPv4 or IPv6 address literal (IPv6 without brackets). */
export function isIpLiteral(host: string): boolean {
  if (IPV4.test(host)) return true;
  if (!host.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(host)) return false;
  try {
    return new URL(`http://[${host}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** An IP address (IPv6 without brackets) or a host name (letters, digits, hyphens, dots). */
export const hostName: Kind<string> = {
  accepts: "IP address or host name",
  parse(raw) {
    const h = raw.trim();
    if (isIpLiteral(h)) return h;
    if (h.length <= 253 && h.split(".").every((l) => LABEL.test(l))) return h;
    throw new Error(`must be an IP address or a host name, got ${show(raw)}`);
  },
};

/** Browser origins (`scheme://host[:port]`, no path) or `*`. Stored as the browser sends them. */
export const origins: Kind<string[]> = {
  accepts: "`*` or comma list of scheme://host[:port]",
  parse(raw) {
    return list().parse(raw).map((entry) => {
      if (entry === "*") return entry;
      let u: URL;
      try {
        u = new URL(entry);
      } catch {
        throw new Error(`${show(entry)} is not an origin (scheme://host[:port], e.g. https://app.example.com)`);
      }
      if (u.username || u.password || !u.host || !/^[a-z][a-z0-9+.-]*:\/\/[^/?#@]+$/i.test(entry)) {
        throw new Error(`${show(entry)} is not an origin: give scheme://host[:port] only, without path, query or trailing slash`);
      }
      // Browsers send the serialized origin (lower case, no default port); apps' own schemes have none.
      return u.origin === "null" ? `${u.protocol}//${u.host}` : u.origin;
    });
  },
};

/** A `host:port` endpoint (IPv6 as `[::1]:7000`). */
export interface HostPort {
  host: string;
  port: number;
}

/** `"a:7000,b:7001"` or `["a:7000", "[::1]:7001"]` → endpoints. @throws {Error} naming a malformed entry. */
export function parseHostPorts(entries: string[] | string, what = ""): HostPort[] {
  const all = (typeof entries === "string" ? entries.split(",") : entries).map((s) => s.trim()).filter((s) => s !== "");
  const prefix = what ? `${what}: ` : "";
  if (all.length === 0) throw new Error(`${prefix}expected at least one host:port`);
  return all.map((entry) => {
    const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(entry);
    const port = m ? Number(m[3]) : 0;
    if (!m || port < 1 || port > 65535) throw new Error(`${prefix}"${entry}" is not host:port (IPv6 as [::1]:7000)`);
    return { host: m[1] ?? m[2]!, port };
  });
}

/** True for a non-empty list, or a string with something besides commas and spaces. */
export function hasEntries(v: string[] | string | undefined): v is string[] | string {
  return typeof v === "string" ? v.replace(/[\s,]/g, "") !== "" : !!v?.length;
}

/** A comma list of `host:port` (validated, kept as strings). */
export const hostPorts: Kind<string[]> = {
  accepts: "comma list of host:port",
  parse(raw) {
    const entries = list().parse(raw);
    parseHostPorts(entries); // the caller names the variable: "Invalid X: …"
    return entries;
  },
};

/** `redis://user:secret@host` → `redis://user:***@host`, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/**
 * Parses a Redis URL: `redis://` or `rediss://` (TLS), a host, an optional port and an optional
 * database number as the path. Messages never contain the password.
 * @throws {Error} saying what is wrong.
 */
export function parseRedisUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new Error(`must be a URL like redis://host:6379 or rediss://host:6380, got ${show(redact(raw))}`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new Error(`must start with redis:// or rediss:// (TLS), got ${u.protocol}//`);
  }
  if (!u.hostname) throw new Error("has no host (redis://host:6379)");
  if (u.port !== "" && (Number(u.port) < 1 || Number(u.port) > 65535)) throw new Error(`has an invalid port ${u.port}`);
  if (!/^\/?(\d{1,5})?$/.test(u.pathname)) throw new Error("path must be a database number, e.g. redis://host:6379/0");
  return u;
}

/** A Redis URL (see {@link parseRedisUrl}), kept as given. */
export const redisUrl: Kind<string> = {
  accepts: "redis://… or rediss://… (TLS)",
  parse(raw) {
    parseRedisUrl(raw);
    return raw.trim();
  },
};

/** `production`, `development`, … trimmed and lower-cased, so `Production ` counts as production. */
export const nodeEnv: Kind<string> = {
  accepts: "text; `production` in any case",
  parse: (raw) => raw.trim().toLowerCase(),
};
