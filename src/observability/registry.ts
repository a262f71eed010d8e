/**
 * A small metric registry: modules register *collectors* that read their plain counters at
 * scrape time, so the hot path keeps incrementing number fields and never looks anything up.
 *
 * ```ts
 * const registry = new Registry();
 * registry.counter("graphwiz_ws_auth_failures_total", "Upgrades refused by auth.", () => auth.failures);
 * registry.gauge("graphwiz_ws_queue_depth", "Frames queued.", () => [{ labels: { kind: "reliable" }, value: q.reliable }]);
 * registry.add(() => serverFamilies(input()));   // a whole set of families at once
 * const body = registry.render(negotiated);
 * ```
 * @module
 */
import { LatencyHistogram } from "./histogram.ts";
import {
  histogramSeconds,
  renderFamilies,
  type ExpositionFormat,
  type HistogramSample,
  type MetricFamily,
  type Sample,
} from "./prometheus.ts";

/** Produces families at scrape time. */
export type Collector = () => Iterable<MetricFamily>;

/** Options of one registered family. */
export interface FamilyOptions {
  /** OpenMetrics unit (`seconds`, `bytes`…); must be the name's suffix. @default none */
  unit?: string;
  /**
   * Most labelled series kept per scrape; extra series are dropped, never silently: the gauge
   * `graphwiz_ws_metrics_series_dropped` says how many the last scrape left out. Label values
   * should come from a bounded set (error codes, formats); rooms use `capRooms` instead.
   * @default 1000
   */
  maxSeries?: number;
}

/** Collectors plus the renderer. One family per name across all collectors. */
export class Registry {
  readonly #collectors: Collector[] = [];
  #dropped = 0;

  /** Adds a collector; returns a function that removes it. */
  add(collector: Collector): () => void {
    this.#collectors.push(collector);
    return () => {
      const i = this.#collectors.indexOf(collector);
      if (i >= 0) this.#collectors.splice(i, 1);
    };
  }

  /** A counter (name ends in `_total`) read from `read`: one number, or labelled samples. */
  counter(name: string, help: string, read: () => number | readonly Sample[], opts: FamilyOptions = {}): () => void {
    return this.add(() => [{ type: "counter", name, help, unit: opts.unit, samples: this.#cap(toSamples(read()), opts.maxSeries) }]);
  }

  /** A gauge read from `read`: one number, or labelled samples. */
  gauge(name: string, help: string, read: () => number | readonly Sample[], opts: FamilyOptions = {}): () => void {
    return this.add(() => [{ type: "gauge", name, help, unit: opts.unit, samples: this.#cap(toSamples(read()), opts.maxSeries) }]);
  }

  /**
   * A histogram read from `read`: a {@link LatencyHistogram} (ms, exposed in seconds; name it
   * `…_seconds`) or ready-made series.
   */
  histogram(name: string, help: string, read: () => LatencyHistogram | readonly HistogramSample[], opts: FamilyOptions = {}): () => void {
    return this.add(() => {
      const v = read();
      const series = v instanceof LatencyHistogram ? [histogramSeconds(v)] : this.#cap(v, opts.maxSeries);
      return [{ type: "histogram", name, help, unit: opts.unit, series }];
    });
  }

  /** Every collector's families, in registration order, plus the registry's own gauge. */
  collect(): MetricFamily[] {
    const out: MetricFamily[] = [];
    this.#dropped = 0;
    for (const c of this.#collectors) for (const f of c()) out.push(f);
    out.push({
      type: "gauge",
      name: "graphwiz_ws_metrics_series_dropped",
      help: "Labelled series left out of this scrape because their family exceeded its series cap.",
      samples: [{ value: this.#dropped }],
    });
    return out;
  }

  /** The exposition body in `format` (see {@link renderFamilies}; throws on a naming error). */
  render(format: ExpositionFormat = "text"): string {
    return renderFamilies(this.collect(), format);
  }

  #cap<T>(items: readonly T[], max = 1000): readonly T[] {
    if (items.length <= max) return items;
    this.#dropped += items.length - max;
    return items.slice(0, max);
  }
}

function toSamples(v: number | readonly Sample[]): readonly Sample[] {
  return typeof v === "number" ? [{ value: v }] : v;
}
