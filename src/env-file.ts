/**
 * The one `.env` policy of every build: no file is read unless asked for with `--settings-file PATH`
 * or `SETTINGS_FILE=PATH` (Bun's and the compiled binary's own `.env` loading is switched off, see
 * docs/deploy.md). The file holds `KEY=VALUE` lines; variables already in the real environment win.
 * @module
 */

/**
 * Parses `KEY=VALUE` lines: blank lines and `#` comments are skipped, `export ` is allowed
 * before a key, values may be single-quoted (taken as is) or double-quoted (`\n`, `\"`, `\\`
 * escapes), and an unquoted value ends at ` #`.
 * @throws {Error} naming the first line that is not `KEY=VALUE`.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((line, i) => {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(t);
    if (!m) throw new Error(`line ${i + 1} is not KEY=VALUE`);
    const [, key, rest] = m as unknown as [string, string, string];
    out[key] = value(rest, i + 1);
  });
  return out;
}

function value(rest: string, line: number): string {
  const q = rest[0];
  if (q === "'" || q === '"') {
    const end = rest.lastIndexOf(q);
    if (end === 0) throw new Error(`line ${line} has an unterminated ${q === '"' ? "double" : "single"} quote`);
    const inner = rest.slice(1, end);
    const after = rest.slice(end + 1).trim();
    if (after !== "" && !after.startsWith("#")) throw new Error(`line ${line} has text after its closing quote`);
    return q === "'" ? inner : inner.replace(/\\([nrt"\\])/g, (_, c: string) => ({ n: "\n", r: "\r", t: "\t" })[c] ?? c);
  }
  const hash = rest.search(/\s#/);
  return (hash >= 0 ? rest.slice(0, hash) : rest).trim();
}

/**
 * The environment with the file's variables added under the real ones: a variable set (non-empty)
 * in the real environment wins.
 */
export function withFileVariables(env: Record<string, string | undefined>, file: Record<string, string>): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = { ...file };
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== "") merged[k] = v;
  return merged;
}
