/**
 * A Prometheus histogram for the request path, exposed through a prom-client `Registry` exactly
 * as prom-client's own `Histogram` would be (same text, same JSON for cluster aggregation).
 *
 * prom-client's `observe` rebuilds and hashes the label record on every call, even through a
 * `.labels()` child (~1.5 % of a proxied request's CPU and ~0.65 KB of garbage per request, in
 * `docs/perf/README.md`). Here a series is resolved once by its owner and an observation is a
 * bucket search and three additions on numbers it already holds.
 *
 * The registry takes any object with prom-client's metric shape (`name`, `get()`, `reset()`);
 * prom-client's own `AggregatorRegistry` registers such plain objects for the metrics it merges.
 *
 * @module
 */

import type { Metric, Registry } from "prom-client";

/** One label tuple's counts. */
export class HistogramSeries {
  /** Per bucket, the observations above the previous bound and ≤ this one; the last is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly labels: Readonly<Record<string, string>>, private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  /** Records one value (a finite number; the caller checks). */
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/** Options of {@linkcode RequestHistogram}. */
export interface RequestHistogramOptions {
  readonly name: string;
  readonly help: string;
  /** The label names, in the order `series()` takes their values. */
  readonly labelNames: readonly string[];
  /** Upper bounds, strictly increasing (validated by the config). */
  readonly buckets: readonly number[];
  readonly registry: Registry;
}

/** One exported value, as prom-client's registry reads it. */
interface ExportedValue {
  readonly labels: Readonly<Record<string, string | number>>;
  /** The series' labels, written after `labels` (prom-client's order for histograms). */
  readonly sharedLabels?: Readonly<Record<string, string>>;
  readonly value: number;
  readonly metricName: string;
}

/** A metric as data, as prom-client's registry reads it (its typings name `type` as an enum). */
interface ExportedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: "histogram";
  readonly aggregator: "sum";
  readonly values: readonly ExportedValue[];
}

/**
 * A labelled histogram whose series are resolved once and observed without label handling.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { RequestHistogram } from "./histogram.ts";
 * const registry = new Registry();
 * const h = new RequestHistogram({ name: "d", help: "h", labelNames: ["service"], buckets: [1, 5], registry });
 * const chat = h.series(["chat"]);
 * chat.observe(0.5);
 * chat.observe(7);
 * const text = await registry.metrics();
 * assert.match(text, /d_bucket\{le="1",service="chat"\} 1\nd_bucket\{le="5",service="chat"\} 1\n/);
 * assert.match(text, /d_bucket\{le="\+Inf",service="chat"\} 2\nd_sum\{service="chat"\} 7.5\nd_count\{service="chat"\} 2/);
 * ```
 */
export class RequestHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;
  readonly #labelNames: readonly string[];
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, HistogramSeries>();

  constructor(options: RequestHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.#labelNames = options.labelNames;
    this.#bounds = [...options.buckets];
    // The registry only reads `name`, `get`/`getForPromString` and `reset` (see @module).
    options.registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values (in `labelNames` order), created on first use. */
  series(values: readonly string[]): HistogramSeries {
    // NUL cannot occur in a label value we produce, so the joined key is unambiguous.
    const key = values.join("\u0000");
    let s = this.#series.get(key);
    if (s === undefined) {
      const labels: Record<string, string> = {};
      this.#labelNames.forEach((name, i) => labels[name] = values[i]);
      s = new HistogramSeries(labels, this.#bounds);
      this.#series.set(key, s);
    }
    return s;
  }

  /** For the text exposition: `le` first, then the series' labels (as prom-client writes them). */
  getForPromString(): ExportedMetric {
    const bucket = `${this.name}_bucket`;
    const values: ExportedValue[] = [];
    for (const s of this.#series.values()) {
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += s.counts[i];
        values.push({ labels: { le }, sharedLabels: s.labels, value: cumulative, metricName: bucket });
      });
      values.push(
        { labels: { le: "+Inf" }, sharedLabels: s.labels, value: s.count, metricName: bucket },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** As data (`Registry.getMetricsAsJSON`, cluster aggregation): one label record per value. */
  get(): ExportedMetric {
    const data = this.getForPromString();
    const values = data.values.map(({ labels, sharedLabels, value, metricName }) => ({
      labels: { ...labels, ...sharedLabels },
      value,
      metricName,
    }));
    return { ...data, values };
  }

  /** Zeroes every series (`Registry.resetMetrics`); the series handed out stay valid. */
  reset(): void {
    for (const s of this.#series.values()) {
      s.counts.fill(0);
      s.sum = s.count = 0;
    }
  }
}
