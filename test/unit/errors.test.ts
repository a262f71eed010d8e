import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CloseCode, ErrorCode, reconnectAdvice } from "../../src/errors.ts";

const doc = readFileSync(new URL("../../docs/close-codes.md", import.meta.url), "utf8");

test("every close code is in docs/close-codes.md with its name and matching reconnect advice", () => {
  for (const [name, code] of Object.entries(CloseCode)) {
    const row = doc.split("\n").find((l) => l.startsWith(`| ${code} | \`${name}\``));
    expect(row, `${code} ${name} missing from docs/close-codes.md`).toBeDefined();
    const advice = reconnectAdvice(code);
    const says = row!.split("|")[3].trim();
    expect(advice === "never" ? says.startsWith("no") : advice === "now" ? says === "now" : says.startsWith("with"), `${name}: ${says} vs ${advice}`).toBe(true);
  }
});

test("every error code is in docs/close-codes.md", () => {
  for (const code of Object.values(ErrorCode)) expect(doc).toContain(`| \`${code}\` |`);
});

test("close codes are in their documented ranges", () => {
  for (const code of Object.values(CloseCode)) {
    expect(code < 4000 || (code >= 4000 && code <= 4105) || (code >= 4400 && code <= 4499)).toBe(true);
  }
});
