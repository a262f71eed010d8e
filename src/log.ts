/**
 * Structured logging: one JSON object per line (`time`, `level`, `event`, then fields).
 * The writer is injected by the adapter (stdout there, an array in tests). Never pass a token
 * or a message body as a field.
 * @module
 */

/** Log severities, least severe first. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Fields attached to a log line (room, connection id, user id, code, …). */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** A minimal structured logger. */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

/** Creates a logger writing lines at or above `level` through `write`. */
export function createLogger(level: LogLevel, write: (line: string) => void, now: () => number = Date.now): Logger {
  const min = RANK[level];
  const emit = (lvl: LogLevel) => (event: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return;
    write(JSON.stringify({ time: new Date(now()).toISOString(), level: lvl, event, ...fields }));
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/** A logger that writes nothing. */
export const silentLogger: Logger = createLogger("error", () => {});
