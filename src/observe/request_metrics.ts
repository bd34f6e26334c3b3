/**
 * The per-request metrics (`dairouter_requests_total`, `dairouter_tokens_total` and the duration
 * and time-to-first-byte histograms), the part of the metrics that runs on the hot path.
 *
 * prom-client re-hashes and re-validates the label set on every call, even through a `.labels()`
 * child (measured: caching children alone made `recordRequest()` ~1.5× slower than plain calls,
 * because of the cache lookups on top). So the request and token counters are summed in plain
 * numbers on one cached object per label tuple and handed to prom-client in the counters'
 * `collect()` hook at scrape time; the histograms, which prom-client cannot fill in bulk, are our
 * own ({@linkcode RequestHistogram}, same exposition), their series held by the same object. One
 * `Map` lookup per request in all.
 *
 * @module
 */

import { Counter, type Registry } from "prom-client";
import type { AccessRecord } from "../types.ts";
import { type HistogramSeries, RequestHistogram } from "./histogram.ts";
import { METRIC_NAMES } from "./metric_names.ts";

/** Pending per-request counts of one label tuple, flushed to prom-client at scrape time. */
interface RequestSeries {
  readonly labels: { service: string; model: string; instance: string; status: string; dialect: string };
  requests: number;
  tokensIn: number;
  tokensOut: number;
  readonly duration: HistogramSeries;
  readonly ttfb: HistogramSeries;
}

/** The access record's `error` of a request the client abandoned. */
const CLIENT_ABORT = "client_abort";
/** The status label of an abandoned request (nginx's "client closed request"). */
const CLIENT_CLOSED_STATUS = 499;

/** True for a number that may be observed (durations and token counts). */
function usable(n: number | undefined): n is number {
  return typeof n === "number" && Number.isFinite(n) && n >= 0;
}

/**
 * Registers the per-request metrics on `registry` and returns the function that records one
 * finished request. `buckets` must already be validated (seconds, strictly increasing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { registerRequestMetrics } from "./request_metrics.ts";
 *
 * const registry = new Registry();
 * const record = registerRequestMetrics(registry, [0.1, 1, 10]);
 * record({
 *   requestId: "r", clientIp: "::1", method: "POST", route: "/v1/rerank", service: "rerank",
 *   model: "bge-reranker", instance: "rerank/bge-reranker#0", status: 200, durationMs: 40,
 *   stream: false, retries: 0,
 * });
 * assert.match(await registry.metrics(), /dairouter_request_duration_seconds_bucket\{le="0.1",service="rerank"/);
 * ```
 */
export function registerRequestMetrics(
  registry: Registry,
  buckets: readonly number[],
): (rec: AccessRecord) => void {
  // Pending counts per label tuple; the counters' collect() hooks drain them at scrape time.
  const series = new Map<string, RequestSeries>();
  new Counter({
    name: METRIC_NAMES.requests,
    help: "Finished requests by service, model, instance, HTTP status and client dialect.",
    labelNames: ["service", "model", "instance", "status", "dialect"] as const,
    registers: [registry],
    collect() {
      for (const s of series.values()) {
        if (s.requests > 0) this.inc(s.labels, s.requests);
        s.requests = 0;
      }
    },
  });
  new Counter({
    name: METRIC_NAMES.tokens,
    help: "Tokens reported by upstream usage, by direction (in = prompt, out = completion).",
    labelNames: ["service", "model", "direction"] as const,
    registers: [registry],
    collect() {
      for (const s of series.values()) {
        const { service, model } = s.labels;
        if (s.tokensIn > 0) this.inc({ service, model, direction: "in" }, s.tokensIn);
        if (s.tokensOut > 0) this.inc({ service, model, direction: "out" }, s.tokensOut);
        s.tokensIn = s.tokensOut = 0;
      }
    },
  });
  const duration = new RequestHistogram({
    name: METRIC_NAMES.duration,
    help: "Time from request arrival to the end of the response, in seconds.",
    labelNames: ["service", "model"],
    buckets,
    registry,
  });
  const ttfb = new RequestHistogram({
    name: METRIC_NAMES.ttfb,
    help: "Time to the first byte of the upstream body (first token of a stream), in seconds.",
    labelNames: ["service", "model", "stream"],
    buckets,
    registry,
  });
  function requestSeries(
    service: string,
    model: string,
    instance: string,
    status: number,
    stream: boolean,
    dialect: string,
  ) {
    // NUL cannot occur in a label value we produce, so the joined key is unambiguous.
    const key = `${service}\u0000${model}\u0000${instance}\u0000${status}\u0000${stream}\u0000${dialect}`;
    let s = series.get(key);
    if (s === undefined) {
      s = {
        labels: { service, model, instance, status: String(status), dialect },
        requests: 0,
        tokensIn: 0,
        tokensOut: 0,
        // Shared by every request series of the same service and model.
        duration: duration.series([service, model]),
        ttfb: ttfb.series([service, model, stream ? "true" : "false"]),
      };
      series.set(key, s);
    }
    return s;
  }
  return (rec) => {
    // Requests that never reached a service (404 route, global 429) still count, under "none".
    // A stream the client left after its 200 went out is not a success: it counts as 499
    // ("client closed request", as before any byte was sent), the access log keeps the 200.
    const s = requestSeries(
      rec.service ?? "none",
      rec.model ?? "unknown",
      rec.instance ?? "none",
      rec.error === CLIENT_ABORT ? CLIENT_CLOSED_STATUS : rec.status,
      rec.stream,
      // `openai` for the OpenAI endpoints; the client dialect's name for the others.
      rec.dialect ?? "openai",
    );
    s.requests++;
    if (usable(rec.tokensIn)) s.tokensIn += rec.tokensIn;
    if (usable(rec.tokensOut)) s.tokensOut += rec.tokensOut;
    if (usable(rec.durationMs)) s.duration.observe(rec.durationMs / 1000);
    if (usable(rec.ttftMs)) s.ttfb.observe(rec.ttftMs / 1000);
  };
}
