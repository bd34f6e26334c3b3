/**
 * The admission queue's metrics — what an autoscaler watches: `dairouter_queue_depth{service}`
 * (requests waiting now, read at scrape time) and `dairouter_queue_wait_seconds{service,outcome}`
 * (how long each request waited, and how its wait ended: `served`, `timeout`, `abort`, `gone`, or
 * `rejected` for a request that found the queue full and waited 0 s).
 *
 * @module
 */

import { Gauge, Histogram, type Registry } from "prom-client";
import { METRIC_NAMES } from "./metric_names.ts";

/** One service's queue depth, read at scrape time. */
export interface QueueSample {
  readonly service: string;
  readonly depth: number;
}

/** Buckets of the wait histogram, seconds: from "hardly waited" to a long `max-wait`. */
export const QUEUE_WAIT_BUCKETS: readonly number[] = [
  0.005,
  0.025,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
];

/** The queue metrics on a registry. */
export interface QueueMetrics {
  /** Registers the function the depth gauge reads at every scrape (replaces the previous one). */
  setSource(fn: () => Iterable<QueueSample>): void;
  /** Observes one request leaving the queue after `waitedMs`. */
  left(service: string, outcome: string, waitedMs: number): void;
}

/**
 * Registers the queue metrics on `registry`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { registerQueueMetrics } from "./queue_metrics.ts";
 * const registry = new Registry();
 * const q = registerQueueMetrics(registry);
 * q.setSource(() => [{ service: "chat", depth: 3 }]);
 * q.left("chat", "served", 1500);
 * const text = await registry.metrics();
 * assert.match(text, /dairouter_queue_depth\{service="chat"\} 3/);
 * assert.match(text, /dairouter_queue_wait_seconds_bucket\{le="2.5",service="chat",outcome="served"\} 1/);
 * ```
 */
export function registerQueueMetrics(registry: Registry): QueueMetrics {
  let source: (() => Iterable<QueueSample>) | undefined;
  new Gauge({
    name: METRIC_NAMES.queueDepth,
    help: "Requests waiting in the admission queue for a slot on an instance.",
    labelNames: ["service"] as const,
    registers: [registry],
    collect() {
      this.reset();
      if (source === undefined) return;
      for (const s of source()) this.set({ service: s.service }, s.depth);
    },
  });
  const wait = new Histogram({
    name: METRIC_NAMES.queueWait,
    help: "Time requests waited in the admission queue, by how the wait ended.",
    labelNames: ["service", "outcome"] as const,
    buckets: [...QUEUE_WAIT_BUCKETS],
    registers: [registry],
  });
  return {
    setSource(fn) {
      source = fn;
    },
    left(service, outcome, waitedMs) {
      wait.labels(service, outcome).observe(Math.max(0, waitedMs) / 1000);
    },
  };
}
