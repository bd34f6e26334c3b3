/**
 * Metrics of the client-facing edge: request-body bytes being received (against
 * `server.max-pending-body-bytes`) and listener renewals, each of which closed the connections
 * that were idle or had not sent a whole request (slow clients, `server.max-connections`,
 * `server.header-timeout`, a failed accept loop).
 *
 * @module
 */

import { Counter, Gauge, type Registry } from "prom-client";
import { METRIC_NAMES } from "./metric_names.ts";

/** Why the listener was renewed. */
export type RenewalReason = "header-timeout" | "max-connections" | "accept-error";

/** The edge's recording functions. */
export interface EdgeMetrics {
  /** Registers what the pending-body-bytes gauge reads at every scrape. */
  setPendingBodySource(fn: () => number): void;
  /** Counts one listener renewal. */
  recordListenerRenewal(reason: RenewalReason): void;
}

/**
 * Registers the edge metrics on `registry`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { registerEdgeMetrics } from "./edge_metrics.ts";
 * const registry = new Registry();
 * const edge = registerEdgeMetrics(registry);
 * edge.setPendingBodySource(() => 4096);
 * edge.recordListenerRenewal("max-connections");
 * const text = await registry.metrics();
 * assert.match(text, /dairouter_pending_body_bytes 4096/);
 * assert.match(text, /dairouter_listener_renewals_total\{reason="max-connections"\} 1/);
 * ```
 */
export function registerEdgeMetrics(registry: Registry): EdgeMetrics {
  let pending: (() => number) | undefined;
  new Gauge({
    name: METRIC_NAMES.pendingBodyBytes,
    help: "Bytes of request bodies being received now (capped by server.max-pending-body-bytes).",
    registers: [registry],
    collect() {
      this.set(pending ? pending() : 0);
    },
  });
  const renewals = new Counter({
    name: METRIC_NAMES.listenerRenewals,
    help: "Listener renewals; each closed the connections that were idle or had not sent a whole request.",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  return {
    setPendingBodySource(fn) {
      pending = fn;
    },
    recordListenerRenewal(reason) {
      renewals.inc({ reason });
    },
  };
}
