/**
 * The gauges a gateway's metrics read from its live table when scraped (never updated per
 * request): in-flight requests per instance, the admission queue's depth per service that queues,
 * and each engine's reported load.
 *
 * @module
 */

import type { Metrics } from "../observe/metrics.ts";
import type { Runtime, RuntimeState } from "../proxy/runtime.ts";
import { SERVICE_KINDS } from "../types.ts";

/**
 * Points the metrics' gauges at the table `runtime()` returns (read at every scrape, so a reload
 * needs nothing more).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "../config/load.ts";
 * import { createMetrics } from "../observe/metrics.ts";
 * import { buildRuntime, createRuntimeState } from "../proxy/runtime.ts";
 * import { feedMetrics } from "./metric_sources.ts";
 * const yaml = 'model:\n  services:\n    chat:\n      instances:\n        - { name: m, base-url: "http://127.0.0.1:9" }\n';
 * const { config } = parseConfig(yaml, { source: "x.yaml", env: {} });
 * const state = createRuntimeState();
 * const events = { breakerChanged() {}, healthChanged() {} };
 * const runtime = buildRuntime(config, { clock: () => 0, random: () => 0.5, state, events });
 * const metrics = createMetrics();
 * feedMetrics(metrics, () => runtime, state);
 * runtime.upstreams[0].stats.inFlight = 2;
 * assert.match(await metrics.render(), /dairouter_in_flight_requests\{[^}]*\} 2/);
 * ```
 */
export function feedMetrics(
  metrics: Pick<Metrics, "setInFlightSource" | "setQueueSource" | "setEngineSource">,
  runtime: () => Runtime,
  state: RuntimeState,
): void {
  metrics.setInFlightSource(function* () {
    for (const u of runtime().upstreams) {
      yield { service: u.service, instance: u.id, inFlight: u.stats.inFlight };
    }
  });
  metrics.setQueueSource(function* () {
    for (const kind of SERVICE_KINDS) {
      const pools = runtime().services[kind].pools.values();
      if (pools.some((p) => p.gate !== undefined)) {
        yield { service: kind, depth: state.budgets.get(kind)?.depth ?? 0 };
      }
    }
  });
  metrics.setEngineSource(function* () {
    for (const u of runtime().upstreams) {
      if (u.stats.engine) yield { service: u.service, instance: u.id, status: u.stats.engine.status() };
    }
  });
}
