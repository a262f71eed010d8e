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
  test("every setting is documented with its default in docs/config.md", () => {
    const doc = readFileSync(new URL("../../docs/config.md", import.meta.url), "utf8");
    for (const s of Object.values(SETTINGS)) {
      const row = doc.split("\n").find((l) => l.startsWith(`| \`${s.env}\``));
      expect(row, `${s.env} is missing from docs/config.md`).toBeDefined();
      const def = Array.isArray(s.default) ? (s.default.length ? s.default.join(",") : "(none)") : s.default === "" ? "(none)" : String(s.default);
      expect(row!, `${s.env}'s default in docs/config.md`).toContain(`\`${def}\``);
    }
  });
});

test("src/protocol/schema.generated.ts matches proto/graphwiz.proto", () => {
  const r = Bun.spawnSync([process.execPath, "proto/generate.ts", "--check"], { cwd: new URL("../..", import.meta.url).pathname, stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
});
