/**
 * Prometheus exposition: metric families → text, in the classic text format (0.0.4) or
 * OpenMetrics 1.0, plus content negotiation. Pure functions; the registry
 * (`registry.ts`) and the server's own metrics (`server-metrics.ts`) build the families.
 *
 * Naming rules enforced here (a bad family throws, it is a programming error):
 * - counter names end in `_total`. The text format uses that name in `# HELP`/`# TYPE`;
 *   OpenMetrics uses the name without `_total` there and `…_total` on the sample line.
 * - one family per name, and no family may collide with another's generated series
 *   (`x_bucket`, `x_sum`, `x_count`, a counter's name without `_total`).
 * - label names are `[a-zA-Z_][a-zA-Z0-9_]*`, not `__…`; histograms may not use `le`.
 * @module
 */
import type { LatencyHistogram } from "./histogram.ts";

/** Label name → value of one series. */
export type Labels = Readonly<Record<string, string>>;
/** One counter or gauge series. */
export interface Sample {
  labels?: Labels;
  value: number;
}
/** One histogram series: cumulative buckets (ascending `le`, the last `+Inf`), sum and count. */
export interface HistogramSample {
  labels?: Labels;
  buckets: readonly { le: number; count: number }[];
  sum: number;
  count: number;
}
/** A counter or gauge family. */
export interface ScalarFamily {
  type: "counter" | "gauge";
  name: string;
  help: string;
  /** OpenMetrics `# UNIT` (e.g. `bytes`); the name (without `_total`) must end in `_<unit>`. */
  unit?: string;
  samples: readonly Sample[];
}
/** A histogram family. */
export interface HistogramFamily {
  type: "histogram";
  name: string;
  help: string;
  /** OpenMetrics `# UNIT` (e.g. `seconds`); the name must end in `_<unit>`. */
  unit?: string;
  series: readonly HistogramSample[];
}
/** What the renderer prints. */
export type MetricFamily = ScalarFamily | HistogramFamily;

/** The two Prometheus exposition formats. */
export type ExpositionFormat = "text" | "openmetrics";
/** `Content-Type` of each format. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  text: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a label value: backslash, double quote and newline (both formats). */
export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** Escapes `# HELP` text: backslash and newline; OpenMetrics also escapes `"`. */
function escapeHelp(v: string, format: ExpositionFormat): string {
  const re = format === "openmetrics" ? /[\\"\n]/g : /[\\\n]/g;
  return v.replace(re, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** A sample value: integers as is, `+Inf`/`-Inf`/`NaN` spelled the Prometheus way. */
export function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v !== v) return "NaN";
  return String(v);
}

/** An `le` label value; OpenMetrics writes whole numbers as `1.0` (as the Go client does). */
function formatLe(le: number, format: ExpositionFormat): string {
  if (le === Infinity) return "+Inf";
  const s = String(le);
  return format === "openmetrics" && Number.isInteger(le) && !s.includes("e") ? `${s}.0` : s;
}

function labelString(labels: Labels | undefined, extra?: string): string {
  let out = "";
  if (labels) for (const k in labels) out += `${out ? "," : ""}${k}="${escapeLabelValue(labels[k]!)}"`;
  if (extra) out += (out ? "," : "") + extra;
  return out ? `{${out}}` : "";
}

function checkLabels(family: string, labels: Labels | undefined, seen: Set<string>, isHistogram: boolean): void {
  const names = labels ? Object.keys(labels) : [];
  for (const n of names) {
    if (!LABEL_NAME.test(n) || n.startsWith("__")) throw new Error(`metrics: ${family}: bad label name "${n}"`);
    if (isHistogram && n === "le") throw new Error(`metrics: ${family}: histograms may not use the label "le"`);
    if (typeof labels![n] !== "string") throw new Error(`metrics: ${family}: label "${n}" must be a string`);
  }
  const key = names.sort().map((n) => `${n}=${labels![n]}`).join("\u0000");
  if (seen.has(key)) throw new Error(`metrics: ${family}: duplicate series {${key.replace(/\u0000/g, ",")}}`);
  seen.add(key);
}

/** Checks names across families; returns the OpenMetrics family name (counters lose `_total`). */
function claimNames(f: MetricFamily, taken: Set<string>): string {
  if (!METRIC_NAME.test(f.name)) throw new Error(`metrics: bad metric name "${f.name}"`);
  let base = f.name;
  let names: string[];
  if (f.type === "counter") {
    if (!f.name.endsWith("_total") || f.name === "_total") throw new Error(`metrics: counter "${f.name}" must end in _total`);
    base = f.name.slice(0, -"_total".length);
    names = [base, f.name, `${base}_created`];
  } else if (f.type === "histogram") {
    names = [base, `${base}_bucket`, `${base}_sum`, `${base}_count`, `${base}_created`];
  } else names = [base];
  if (f.unit !== undefined && (!/^[a-zA-Z0-9_]+$/.test(f.unit) || !base.endsWith(`_${f.unit}`))) {
    throw new Error(`metrics: ${f.name}: unit "${f.unit}" must be the name's suffix`);
  }
  for (const n of names) {
    if (taken.has(n)) throw new Error(`metrics: "${f.name}" collides with another family (${n})`);
  }
  for (const n of names) taken.add(n);
  return base;
}

/**
 * Renders families in `format`. Families are printed in the given order, one `# HELP`/`# TYPE`
 * block each (a family with no samples prints only its metadata). OpenMetrics output ends with
 * `# EOF`. @throws {Error} on a naming rule violation (see the module comment).
 */
export function renderFamilies(families: Iterable<MetricFamily>, format: ExpositionFormat = "text"): string {
  const om = format === "openmetrics";
  const taken = new Set<string>();
  const lines: string[] = [];
  for (const f of families) {
    const base = claimNames(f, taken);
    const metaName = om ? base : f.name;
    lines.push(`# HELP ${metaName} ${escapeHelp(f.help, format)}`, `# TYPE ${metaName} ${f.type}`);
    if (om && f.unit !== undefined) lines.push(`# UNIT ${metaName} ${f.unit}`);
    const seen = new Set<string>();
    if (f.type === "histogram") {
      for (const s of f.series) {
        checkLabels(f.name, s.labels, seen, true);
        let prev = -Infinity;
        for (const b of s.buckets) {
          if (!(b.le > prev)) throw new Error(`metrics: ${f.name}: buckets must be in ascending le order`);
          prev = b.le;
          lines.push(`${base}_bucket${labelString(s.labels, `le="${formatLe(b.le, format)}"`)} ${formatValue(b.count)}`);
        }
        if (prev !== Infinity) throw new Error(`metrics: ${f.name}: the last bucket must be le=+Inf`);
        const ls = labelString(s.labels);
        lines.push(`${base}_sum${ls} ${formatValue(s.sum)}`, `${base}_count${ls} ${formatValue(s.count)}`);
      }
    } else {
      for (const s of f.samples) {
        checkLabels(f.name, s.labels, seen, false);
        lines.push(`${f.name}${labelString(s.labels)} ${formatValue(s.value)}`);
      }
    }
  }
  if (om) lines.push("# EOF");
  return lines.join("\n") + "\n";
}

/**
 * A {@link LatencyHistogram} (ms) as one Prometheus histogram series in **seconds**, using its
 * exact `le` buckets. Boundaries are rounded to 12 significant digits so `0.05 ms` prints as
 * `0.00005`, not `0.00005000000000000001`.
 */
export function histogramSeconds(h: LatencyHistogram, labels?: Labels): HistogramSample {
  const buckets = h.buckets().map((b) => ({ le: b.le === Infinity ? Infinity : Number((b.le / 1000).toPrecision(12)), count: b.count }));
  return { labels, buckets, sum: h.sum / 1000, count: h.count };
}

/** What a `/metrics` request asked for. */
export type MetricsFormat = ExpositionFormat | "json";

/**
 * Picks the response format of a metrics request.
 * 1. `?format=` wins: `json`, `prometheus`/`text`, or `openmetrics`.
 * 2. Otherwise the `Accept` media type with the highest `q` among `application/openmetrics-text`,
 *    `text/plain` and `application/json` (ties go to that order, so Prometheus's own scrape
 *    header gets OpenMetrics; `q=0` rules a type out).
 * 3. Otherwise (no header, `*∕*` only, nothing known) `fallback`.
 * @param fallback @default "text"
 */
export function negotiateMetricsFormat(accept: string | null | undefined, query?: string | null, fallback: MetricsFormat = "text"): MetricsFormat {
  const q = query?.trim().toLowerCase();
  if (q === "json") return "json";
  if (q === "openmetrics") return "openmetrics";
  if (q === "prometheus" || q === "text") return "text";
  if (!accept) return fallback;
  const best: Record<MetricsFormat, number> = { openmetrics: -1, text: -1, json: -1 };
  for (const part of accept.split(",")) {
    const [type, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    let weight = 1;
    for (const p of params) {
      const m = /^q=([0-9.]+)$/.exec(p);
      if (m) weight = Number(m[1]);
    }
    if (!(weight > 0)) continue;
    const fmt: MetricsFormat | undefined =
      type === "application/openmetrics-text" ? "openmetrics" : type === "text/plain" ? "text" : type === "application/json" ? "json" : undefined;
    if (fmt && weight > best[fmt]) best[fmt] = weight;
  }
  let pick: MetricsFormat = fallback;
  let top = 0;
  for (const fmt of ["openmetrics", "text", "json"] as const) {
    if (best[fmt] > top) {
      top = best[fmt];
      pick = fmt;
    }
  }
  return pick;
}
