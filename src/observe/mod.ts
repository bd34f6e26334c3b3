/**
 * Observability: Prometheus metrics, structured logs with secret redaction, and W3C trace
 * context. Nothing here does I/O of its own: output goes through injected writers, and time and
 * randomness are injected.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger, createMetrics, createTraceContext, formatTraceparent, parseTraceparent, requestId } from "./mod.ts";
 *
 * let seed = 7;
 * const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
 * const lines: string[] = [];
 * const log = createLogger({ level: "info", format: "json", clock: () => 0, write: (l) => lines.push(l) });
 * const metrics = createMetrics();
 *
 * const trace = createTraceContext(parseTraceparent(null), random);
 * const rec = {
 *   requestId: requestId(random), traceId: trace.traceId, clientIp: "127.0.0.1", method: "POST",
 *   route: "/v1/embeddings", service: "embedding" as const, model: "bge", instance: "embedding/bge#0",
 *   status: 200, durationMs: 35, stream: false, retries: 0,
 * };
 * metrics.recordRequest(rec);
 * log.access(rec);
 * assert.equal(JSON.parse(lines[0]).traceId, trace.traceId);
 * assert.match(formatTraceparent(trace), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
 * assert.match(await metrics.render(), /dairouter_requests_total\{service="embedding"/);
 * ```
 *
 * @module
 */

export {
  BREAKER_STATE_VALUE,
  createMetrics,
  DEFAULT_BUCKETS,
  type InFlightSample,
  METRIC_NAMES,
  type Metrics,
  type MetricsOptions,
} from "./metrics.ts";
export {
  ACCESS_FIELDS,
  createLogger,
  type LogFields,
  type LogFormat,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from "./logger.ts";
export { isSensitiveKey, maskString, MIN_SECRET_LENGTH, prepareSecrets, redact, REDACTED } from "./redact.ts";
export {
  createTraceContext,
  DEFAULT_TRACE_FLAGS,
  formatTraceparent,
  parseTraceparent,
  REQUEST_ID_LENGTH,
  requestId,
  type TraceContext,
} from "./trace.ts";
