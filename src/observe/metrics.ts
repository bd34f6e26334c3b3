/**
 * Prometheus metrics of the gateway, on a private `prom-client` registry.
 *
 * Each `createMetrics()` call owns its own `Registry`, so tests, benchmarks and config reloads
 * never collide on the process-wide default registry.
 *
 * **Label cardinality.** Every label value must come from a bounded set: `service` is a
 * {@linkcode ServiceKind}, `instance` is a configured instance id, `model` is a configured model
 * name (the dispatcher records `"unknown"` for a model the config does not know, never the raw
 * client string), `status` is an HTTP status code, and `kind`, `scope` and `strategy` are short
 * code-defined words. Nothing a client sends is used as a label value as-is.
 *
 * **Cost.** `recordRequest()` is on the hot path; see `request_metrics.ts` for how it avoids
 * prom-client's per-call label resolution. The other methods use `.labels()` children cached per
 * label tuple; the caches are as bounded as the label values themselves.
 *
 * @module
 */

import { AggregatorRegistry, Counter, Gauge, Registry } from "prom-client";
import type { AccessRecord, BreakerState, EngineSignalStatus, LimitScope, ServiceKind } from "../types.ts";
import { type EdgeMetrics, registerEdgeMetrics } from "./edge_metrics.ts";
import { METRIC_NAMES } from "./metric_names.ts";
import { LOOP_LAG_HELP, type ProcessReadings, registerProcessMetrics } from "./process_metrics.ts";
import { type QueueSample, registerQueueMetrics } from "./queue_metrics.ts";
import { registerRequestMetrics } from "./request_metrics.ts";

/** Every metric of one registry as data (`Registry.getMetricsAsJSON`), for aggregation. */
export type MetricsSnapshot = Awaited<ReturnType<Registry["getMetricsAsJSON"]>>;

export { METRIC_NAMES };

/**
 * Default histogram buckets in seconds. Model calls range from tens of milliseconds (embeddings)
 * to minutes (long generations), and 10 s is a bucket edge because the p99 alert uses it.
 */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  20,
  30,
  60,
  120,
];

/** Gauge value of each breaker state. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  half_open: 1,
  open: 2,
};

/** One row of the in-flight gauge, read at scrape time. */
export interface InFlightSample {
  readonly service: string;
  readonly instance: string;
  readonly inFlight: number;
}

/** One instance's engine signal, read at scrape time. */
export interface EngineSample {
  readonly service: string;
  readonly instance: string;
  readonly status: EngineSignalStatus;
}

/** Options of {@linkcode createMetrics}. */
export interface MetricsOptions {
  /**
   * Upper bounds (seconds) of the duration and time-to-first-byte histograms; finite, > 0 and
   * strictly increasing.
   *
   * @default {DEFAULT_BUCKETS}
   */
  readonly buckets?: readonly number[];
  /** What the process metrics read (`main.ts` passes the process's); without it, only the loop lag. */
  readonly process?: ProcessReadings;
}

/** The gateway's metrics. Every method is cheap and never throws on odd input values. */
export interface Metrics extends EdgeMetrics {
  /** Counts one finished request: status, duration, time to first byte and tokens. */
  recordRequest(rec: AccessRecord): void;
  /** Counts one failover: a further attempt after `instance` failed. */
  recordRetry(service: ServiceKind, model: string, instance: string): void;
  /** Counts one request answered by a fallback (`default` or `cache`). */
  recordFallback(service: ServiceKind, model: string, strategy: string): void;
  /** Counts one request denied by a limiter at `scope`; `service` is `"none"` for a global denial. */
  recordRateLimited(scope: LimitScope, service: ServiceKind | "none"): void;
  /**
   * Counts one upstream failure of `kind`: the failed attempt's `FailureKind` (`connect`, `timeout`,
   * `status`, `body`).
   */
  recordUpstreamError(service: ServiceKind, instance: string, kind: string): void;
  /** Sets the breaker gauge: 0 closed, 1 half_open, 2 open. */
  setBreakerState(service: ServiceKind, instance: string, state: BreakerState): void;
  /** Sets the health gauge: 1 healthy, 0 unhealthy. */
  setHealth(service: ServiceKind, instance: string, healthy: boolean): void;
  /** Drops the gauges of an instance that a config reload removed, so they stop being exported. */
  removeInstance(service: ServiceKind, instance: string): void;
  /** Registers the function the in-flight gauge reads at every scrape (replaces the previous one). */
  setInFlightSource(fn: () => Iterable<InFlightSample>): void;
  /** Sets `dairouter_state_backend_up` (1: the shared state backend answers, 0: it does not). */
  setStateBackendUp(up: boolean): void;
  /** Every metric as data, for {@linkcode aggregateMetrics} over the workers of one host. */
  snapshot(): Promise<MetricsSnapshot>;
  /**
   * Registers the function the engine gauges read at every scrape: queue depth and KV-cache use
   * as the engine last reported them (only while that reading is trusted), and the reading's age.
   */
  setEngineSource(fn: () => Iterable<EngineSample>): void;
  /**
   * Counts one failed load-signal scrape of `instance`; `reason` is the scraper's fixed word for it
   * (`timeout`, `status`, `network`, `too_large`, `unreadable`).
   */
  recordEngineScrapeFailure(service: ServiceKind, instance: string, reason: string): void;
  /** Registers the function the event-loop lag gauge reads at every scrape (ms; 0 until set). */
  setLoopLagSource(fn: () => number): void;
  /** Registers the function the queue-depth gauge reads at every scrape. */
  setQueueSource(fn: () => Iterable<QueueSample>): void;
  /** Observes one request leaving the admission queue (`outcome`: served, timeout, abort, gone, rejected). */
  recordQueueWait(service: ServiceKind, outcome: string, waitedMs: number): void;
  /** The exposition text for `GET /metrics`. */
  render(): Promise<string>;
  /** The `Content-Type` of {@linkcode Metrics.render}'s text. */
  readonly contentType: string;
}

/** A `Map` of prom-client children keyed by their label tuple. */
function cached<C>(make: (values: string[]) => C): (...values: string[]) => C {
  const cache = new Map<string, C>();
  return (...values) => {
    // NUL cannot occur in a label value we produce, so the joined key is unambiguous.
    const key = values.join("\u0000");
    let child = cache.get(key);
    if (child === undefined) {
      child = make(values);
      cache.set(key, child);
    }
    return child;
  };
}

function validateBuckets(buckets: readonly number[]): number[] {
  if (buckets.length === 0) {
    throw new RangeError(`Cannot create metrics: "buckets" must not be empty, received []`);
  }
  buckets.forEach((b, i) => {
    if (typeof b !== "number" || !Number.isFinite(b) || b <= 0) {
      throw new RangeError(
        `Cannot create metrics: "buckets[${i}]" must be a finite number > 0, received ${b}`,
      );
    }
    if (i > 0 && b <= buckets[i - 1]) {
      throw new RangeError(
        `Cannot create metrics: "buckets" must be strictly increasing, received ${buckets[i - 1]} then ${b}`,
      );
    }
  });
  return [...buckets];
}

/**
 * Creates the gateway's metrics on a private registry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics } from "./metrics.ts";
 *
 * const metrics = createMetrics();
 * metrics.recordRequest({
 *   requestId: "r1", clientIp: "127.0.0.1", method: "POST", route: "/v1/chat/completions",
 *   service: "chat", model: "qwen", instance: "chat/qwen#0", status: 200, durationMs: 420,
 *   stream: false, tokensIn: 12, tokensOut: 30, retries: 0,
 * });
 * const text = await metrics.render();
 * assert.ok(text.includes(
 *   'dairouter_requests_total{service="chat",model="qwen",instance="chat/qwen#0",status="200",dialect="openai"} 1',
 * ));
 * ```
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const buckets = validateBuckets(options.buckets ?? DEFAULT_BUCKETS);
  const registry = new Registry();
  const registers = [registry];

  const recordRequest = registerRequestMetrics(registry, buckets);
  const queue = registerQueueMetrics(registry);
  const edge = registerEdgeMetrics(registry);
  let loopLag = () => 0;
  registerProcessMetrics(registry, options.process, () => loopLag());
  const retries = new Counter({
    name: METRIC_NAMES.retries,
    help: "Failovers to another instance after the named instance failed.",
    labelNames: ["service", "model", "instance"] as const,
    registers,
  });
  const fallbacks = new Counter({
    name: METRIC_NAMES.fallbacks,
    help: "Requests answered by a fallback strategy.",
    labelNames: ["service", "model", "strategy"] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: METRIC_NAMES.rateLimited,
    help: "Requests denied by a rate limiter, by scope.",
    labelNames: ["scope", "service"] as const,
    registers,
  });
  const upstreamErrors = new Counter({
    name: METRIC_NAMES.upstreamErrors,
    help: "Upstream failures by kind.",
    labelNames: ["service", "instance", "kind"] as const,
    registers,
  });
  const breaker = new Gauge({
    name: METRIC_NAMES.breakerState,
    help: "Circuit breaker state: 0 closed, 1 half_open, 2 open.",
    labelNames: ["service", "instance"] as const,
    registers,
    aggregator: "max",
  });
  const health = new Gauge({
    name: METRIC_NAMES.healthy,
    help: "Instance health: 1 healthy, 0 unhealthy.",
    labelNames: ["service", "instance"] as const,
    registers,
    aggregator: "min",
  });

  let stateUp: Gauge | undefined;
  let inFlightSource: (() => Iterable<InFlightSample>) | undefined;
  new Gauge({
    name: METRIC_NAMES.inFlight,
    help: "Upstream requests whose response body has not ended yet.",
    labelNames: ["service", "instance"] as const,
    registers,
    collect() {
      // Rebuilt at every scrape so that instances gone from the source disappear from the output.
      this.reset();
      if (inFlightSource === undefined) return;
      for (const s of inFlightSource()) {
        if (Number.isFinite(s.inFlight)) this.set({ service: s.service, instance: s.instance }, s.inFlight);
      }
    },
  });

  let engineSource: (() => Iterable<EngineSample>) | undefined;
  const engineGauge = (name: string, help: string, read: (s: EngineSignalStatus) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ["service", "instance"] as const,
      registers,
      collect() {
        this.reset();
        if (engineSource === undefined) return;
        for (const e of engineSource()) {
          const v = read(e.status);
          if (v !== undefined && Number.isFinite(v)) {
            this.set({ service: e.service, instance: e.instance }, v);
          }
        }
      },
    });
  engineGauge(
    METRIC_NAMES.engineQueueDepth,
    "Requests queued in the engine (not yet running), as it last reported them; absent when stale.",
    (s) => (s.trusted ? s.waiting : undefined),
  );
  engineGauge(
    METRIC_NAMES.engineKvCacheUsage,
    "KV-cache use of the engine in [0, 1], as it last reported it; absent when stale.",
    (s) => (s.trusted ? s.kvUsage : undefined),
  );
  engineGauge(
    METRIC_NAMES.engineSignalAge,
    "Seconds since the engine's last good load report.",
    (s) => s.ageSeconds,
  );

  const scrapeFailures = new Counter({
    name: METRIC_NAMES.engineScrapeFailures,
    help:
      "Failed load-signal scrapes of an engine, by reason (timeout, status, network, too_large, unreadable).",
    labelNames: ["service", "instance", "reason"] as const,
    registers,
  });

  const retriesChild = cached((v) => retries.labels(...v));
  const fallbacksChild = cached((v) => fallbacks.labels(...v));
  const rateLimitedChild = cached((v) => rateLimited.labels(...v));
  const upstreamErrorsChild = cached((v) => upstreamErrors.labels(...v));
  const breakerChild = cached((v) => breaker.labels(...v));
  const healthChild = cached((v) => health.labels(...v));
  const scrapeFailuresChild = cached((v) => scrapeFailures.labels(...v));

  return {
    recordRequest,
    ...edge,
    recordRetry(service, model, instance) {
      retriesChild(service, model, instance).inc();
    },
    recordFallback(service, model, strategy) {
      fallbacksChild(service, model, strategy).inc();
    },
    recordRateLimited(scope, service) {
      rateLimitedChild(scope, service).inc();
    },
    recordUpstreamError(service, instance, kind) {
      upstreamErrorsChild(service, instance, kind).inc();
    },
    setBreakerState(service, instance, state) {
      breakerChild(service, instance).set(BREAKER_STATE_VALUE[state]);
    },
    setHealth(service, instance, healthy) {
      healthChild(service, instance).set(healthy ? 1 : 0);
    },
    removeInstance(service, instance) {
      // Cached children stay valid: prom-client re-creates a series when a child is used again.
      breaker.remove(service, instance);
      health.remove(service, instance);
    },
    setStateBackendUp(up) {
      stateUp ??= new Gauge({
        name: METRIC_NAMES.stateBackendUp,
        help: "Whether the shared state backend (Redis) answers: 1 up, 0 down (per-replica fallback).",
        registers,
        aggregator: "min",
      });
      stateUp.set(up ? 1 : 0);
    },
    snapshot: () => registry.getMetricsAsJSON(),
    setInFlightSource(fn) {
      inFlightSource = fn;
    },
    setEngineSource(fn) {
      engineSource = fn;
    },
    recordEngineScrapeFailure(service, instance, reason) {
      scrapeFailuresChild(service, instance, reason).inc();
    },
    setLoopLagSource(fn) {
      loopLag = fn;
    },
    setQueueSource: queue.setSource,
    recordQueueWait: queue.left,
    render() {
      return registry.metrics();
    },
    contentType: registry.contentType,
  };
}

/**
 * One exposition for the workers of a host: counters and histograms summed, in-flight summed,
 * health the lowest, breaker state the highest, state backend up the lowest across workers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aggregateMetrics, createMetrics } from "./metrics.ts";
 * const a = createMetrics(), b = createMetrics();
 * a.recordRetry("chat", "m", "i");
 * b.recordRetry("chat", "m", "i");
 * const text = await aggregateMetrics([await a.snapshot(), await b.snapshot()]);
 * assert.match(text, /dairouter_retries_total\{service="chat",model="m",instance="i"\} 2/);
 * ```
 */
export function aggregateMetrics(snapshots: readonly MetricsSnapshot[]): Promise<string> {
  return AggregatorRegistry.aggregate(snapshots as MetricsSnapshot[]).metrics();
}

/**
 * What {@linkcode aggregateMetrics} combines, as one snapshot again: keeps what workers that are
 * gone had counted without keeping every one of their snapshots.
 */
export function mergeMetrics(snapshots: readonly MetricsSnapshot[]): Promise<MetricsSnapshot> {
  return AggregatorRegistry.aggregate(snapshots as MetricsSnapshot[]).getMetricsAsJSON();
}

/**
 * The loop-lag gauge alone, at `ms`: the supervisor's word for a worker that missed a scrape's
 * deadline (its loop has been late at least that long), combined by the worst like the workers' own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aggregateMetrics, loopLagSnapshot } from "./metrics.ts";
 * assert.match(await aggregateMetrics([loopLagSnapshot(2000)]), /^dairouter_event_loop_lag_seconds 2$/m);
 * ```
 */
export function loopLagSnapshot(ms: number): MetricsSnapshot {
  const gauge = {
    name: METRIC_NAMES.loopLag,
    help: LOOP_LAG_HELP,
    type: "gauge",
    aggregator: "max",
    values: [{ value: ms / 1000, labels: {} }],
  };
  return [gauge] as unknown as MetricsSnapshot;
}

const MONOTONE = new Set(["counter", "histogram"]);

/**
 * The counters and histograms of a snapshot: the series Prometheus expects never to go down. A
 * worker's gauges (in flight, heap, lag) describe it while it runs and mean nothing once it is gone.
 */
export function monotoneMetrics(snapshot: MetricsSnapshot): MetricsSnapshot {
  // prom-client types `type` as a numeric enum; at run time it is the exposition's word.
  return snapshot.filter((m) => MONOTONE.has(String(m.type)));
}
