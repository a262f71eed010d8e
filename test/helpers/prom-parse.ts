/**
 * Real Prometheus parsers for the exposition tests (no hand-written parser is trusted here):
 * - `promtool check metrics` (Prometheus's own text-format parser plus its naming linter);
 * - `promtool tsdb create-blocks-from openmetrics` (Prometheus's own OpenMetrics scrape parser;
 *   it wants a timestamp per sample, so one is appended to each sample line);
 * - the Python `prometheus_client` parsers (the OpenMetrics one is the strict reference parser:
 *   `# EOF`, counter `_total` naming, histogram `+Inf`/count rules) to read values back.
 *
 * Install (Debian/Ubuntu CI): `apt-get install -y prometheus python3-prometheus-client`.
 * A missing tool fails the test with that command in the message; it never skips.
 */
import { spawnSync } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const INSTALL = "install it with: apt-get install -y prometheus python3-prometheus-client";

/** The result of a tool run. */
export interface ToolResult {
  ok: boolean;
  output: string;
}

function run(cmd: string[], stdin?: string): ToolResult {
  let r;
  try {
    r = spawnSync(cmd, { stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  } catch (e) {
    throw new Error(`${cmd[0]} could not be started (${(e as Error).message}); ${INSTALL}`);
  }
  return { ok: r.exitCode === 0, output: (r.stdout.toString() + r.stderr.toString()).trim() };
}

function promtool(): string {
  const which = spawnSync(["sh", "-c", "command -v promtool"], { stdout: "pipe" });
  const path = which.stdout.toString().trim();
  if (which.exitCode !== 0 || !path) throw new Error(`promtool not found on PATH; ${INSTALL}`);
  return path;
}

/** `promtool check metrics` on text-format input: ok only when it parses AND lints clean. */
export function promtoolCheck(text: string): ToolResult {
  return run([promtool(), "check", "metrics"], text);
}

/** Prometheus's OpenMetrics parser, via `promtool tsdb create-blocks-from openmetrics`. */
export function promtoolOpenMetrics(text: string, timestampS = 1_700_000_000): ToolResult {
  const tool = promtool();
  const dir = mkdtempSync(join(tmpdir(), "om-"));
  try {
    const stamped = text.replace(/^([^#\n].*)$/gm, `$1 ${timestampS}`);
    writeFileSync(join(dir, "in.om"), stamped);
    return run([tool, "tsdb", "create-blocks-from", "openmetrics", join(dir, "in.om"), join(dir, "out")]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A parsed family as the Python client reports it (non-finite values as "+Inf"/"-Inf"/"NaN"). */
export interface ParsedFamily {
  name: string;
  type: string;
  unit: string;
  help: string;
  samples: { name: string; labels: Record<string, string>; value: number | string }[];
}

const PY = String.raw`
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families as text
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
fmt = sys.argv[1]
data = sys.stdin.read()
def v(x):
    if math.isnan(x): return "NaN"
    if math.isinf(x): return "+Inf" if x > 0 else "-Inf"
    return x
try:
    fams = list((om if fmt == "openmetrics" else text)(data))
except Exception as e:
    print(json.dumps({"error": str(e)})); sys.exit(0)
print(json.dumps({"families": [{"name": f.name, "type": f.type, "unit": f.unit, "help": f.documentation,
  "samples": [{"name": s.name, "labels": s.labels, "value": v(s.value)} for s in f.samples]} for f in fams]}))
`;

function python(): string {
  for (const p of [process.env.PYTHON, "/usr/bin/python3", "python3"]) {
    if (!p) continue;
    const r = spawnSync([p, "-c", "import prometheus_client.openmetrics.parser"], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode === 0) return p;
  }
  throw new Error(`no python3 with prometheus_client found; ${INSTALL}`);
}

/**
 * Parses with the Python client: `openmetrics` uses the strict OpenMetrics parser, `text` the
 * text-format one. Throws with the parser's message on invalid input.
 */
export function pyParse(body: string, format: "text" | "openmetrics"): ParsedFamily[] {
  const r = run([python(), "-c", PY, format], body);
  if (!r.ok) throw new Error(`python parser crashed: ${r.output}`);
  const out = JSON.parse(r.output) as { error?: string; families?: ParsedFamily[] };
  if (out.error !== undefined) throw new Error(`parse error: ${out.error}`);
  return out.families!;
}

/** The value of the sample `name{labels}` (labels must match exactly), or undefined. */
export function sampleValue(fams: ParsedFamily[], name: string, labels: Record<string, string> = {}): number | string | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const f of fams) for (const s of f.samples) if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) return s.value;
  return undefined;
}
