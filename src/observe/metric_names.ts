/**
 * The catalog of metric names, shared by the metrics modules and checked against the alert rules
 * in `config/alerts.yml` by `alerts_test.ts`.
 *
 * @module
 */

/**
 * Names of every metric the gateway exports (the alert rules in `config/alerts.yml` use them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { METRIC_NAMES } from "./metric_names.ts";
 *
 * assert.equal(METRIC_NAMES.requests, "dairouter_requests_total");
 * ```
 */
export const METRIC_NAMES = {
  requests: "dairouter_requests_total",
  duration: "dairouter_request_duration_seconds",
  ttfb: "dairouter_time_to_first_byte_seconds",
  tokens: "dairouter_tokens_total",
  retries: "dairouter_retries_total",
  fallbacks: "dairouter_fallbacks_total",
  rateLimited: "dairouter_rate_limited_total",
  upstreamErrors: "dairouter_upstream_errors_total",
  breakerState: "dairouter_circuit_breaker_state",
  healthy: "dairouter_instance_healthy",
  inFlight: "dairouter_in_flight_requests",
  stateBackendUp: "dairouter_state_backend_up",
  engineQueueDepth: "dairouter_engine_queue_depth",
  engineKvCacheUsage: "dairouter_engine_kv_cache_usage",
  engineSignalAge: "dairouter_engine_signal_age_seconds",
  engineScrapeFailures: "dairouter_engine_scrape_failures_total",
  queueDepth: "dairouter_queue_depth",
  queueWait: "dairouter_queue_wait_seconds",
  pendingBodyBytes: "dairouter_pending_body_bytes",
  listenerRenewals: "dairouter_listener_renewals_total",
  loopLag: "dairouter_event_loop_lag_seconds",
  heapUsed: "dairouter_js_heap_used_bytes",
  heapTotal: "dairouter_js_heap_total_bytes",
  externalMemory: "dairouter_js_external_memory_bytes",
  residentMemory: "process_resident_memory_bytes",
  cpuSeconds: "process_cpu_seconds_total",
  openFds: "process_open_fds",
  maxFds: "process_max_fds",
  startTime: "process_start_time_seconds",
} as const;
