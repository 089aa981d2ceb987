/**
 * Prometheus metrics of this process (`GET /metrics`): counters fed from every finished request's
 * record, and gauges read from the rotation, the registry and the log queue when scraped.
 * @module
 */
export { createMetrics, type Metrics, type MetricsOptions, type MetricsState } from "./metrics.ts";
