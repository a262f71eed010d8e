import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ConfigError, loadConfig, SETTINGS } from "../../src/config.ts";

describe("config", () => {
  test("defaults", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8083);
    expect(c.host).toBe("0.0.0.0");
  });
  test("an invalid value names its variable", () => {
    expect(() => loadConfig({ PORT: "abc" })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: "abc" })).toThrow(/PORT/);
    expect(() => loadConfig({ PORT: "70000" })).toThrow(/between 0 and 65535/);
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
  });
  test("every setting is documented with its default and accepted range, under its group's heading, in docs/config.md", () => {
    const doc = readFileSync(new URL("../../docs/config.md", import.meta.url), "utf8");
    const lines = doc.split("\n");
    for (const s of Object.values(SETTINGS)) {
      const at = lines.findIndex((l) => l.startsWith(`| \`${s.env}\``));
      expect(at, `${s.env} is missing from docs/config.md`).toBeGreaterThan(-1);
      const row = lines[at]!;
      const def = Array.isArray(s.default) ? (s.default.length ? s.default.join(",") : "(none)") : s.default === "" ? "(none)" : String(s.default);
      expect(row, `${s.env}'s default in docs/config.md`).toContain(`| \`${def}\` |`);
      expect(row, `${s.env}'s accepted values in docs/config.md`).toContain(`| ${s.accepts} |`);
      const heading = lines.slice(0, at).reverse().find((l) => l.startsWith("## "));
      expect(heading, `${s.env}'s section in docs/config.md`).toBe(`## ${s.group}`);
    }
    // and nothing documented that the table does not know
    const documented = lines.filter((l) => /^\| `[A-Z_]+` \| `/.test(l)).map((l) => l.split("`")[1]);
    expect(documented.sort()).toEqual(Object.values(SETTINGS).map((s) => s.env).sort());
  });
});

test("src/protocol/schema.generated.ts matches proto/graphwiz.proto", () => {
  const r = Bun.spawnSync([process.execPath, "proto/generate.ts", "--check"], { cwd: new URL("../..", import.meta.url).pathname, stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
});
