/**
 * Observability building blocks: latency histograms, rolling views, a metric registry with
 * Prometheus/OpenMetrics output, the JSON snapshot and report, and the dashboard page.
 * Pure modules: the hub and the HTTP routes own the instances and call these.
 * @module
 */
export * from "./histogram.ts";
export * from "./rolling.ts";
export * from "./prometheus.ts";
export * from "./registry.ts";
export * from "./rooms.ts";
export * from "./snapshot.ts";
export * from "./server-metrics.ts";
export { dashboardHtml, type DashboardOptions } from "./dashboard.ts";
