/**
 * What a gateway does when its table reports a state change of an instance: a breaker moved, an
 * instance was ejected or recovered, a failing probe was overruled by live traffic. Each is set
 * in the metrics, told to the cluster (other workers and replicas) and logged at the level the
 * news deserves.
 *
 * @module
 */

import type { GatewayCluster } from "../gateway.ts";
import type { Logger } from "../observe/logger.ts";
import type { Metrics } from "../observe/metrics.ts";
import type { RuntimeEvents } from "../proxy/runtime.ts";

/** What the events reach. */
export interface RuntimeEventsOptions {
  readonly metrics: Pick<Metrics, "setBreakerState" | "setHealth">;
  readonly logger: Logger;
  readonly cluster?: Pick<GatewayCluster, "breakerChanged" | "healthChanged">;
}

/**
 * The `events` of a gateway's runtime.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger } from "../observe/logger.ts";
 * import { createMetrics } from "../observe/metrics.ts";
 * import { runtimeEvents } from "./events.ts";
 * const lines: string[] = [];
 * const logger = createLogger({ level: "info", format: "json", clock: () => 0, write: (l) => lines.push(l) });
 * const told: string[] = [];
 * const events = runtimeEvents({
 *   metrics: createMetrics(),
 *   logger,
 *   cluster: { breakerChanged: (id, to) => told.push(`${id} ${to}`) },
 * });
 * events.breakerChanged({ id: "chat/a", service: "chat" } as never, "closed", "open");
 * assert.deepEqual(told, ["chat/a open"]);
 * assert.equal(JSON.parse(lines[0]).level, "warn");
 * ```
 */
export function runtimeEvents(options: RuntimeEventsOptions): RuntimeEvents {
  const { metrics, logger, cluster } = options;
  return {
    breakerChanged(u, from, to) {
      metrics.setBreakerState(u.service, u.id, to);
      cluster?.breakerChanged?.(u.id, to);
      logger.warn("circuit breaker state changed", {
        event: "breaker",
        service: u.service,
        instance: u.id,
        from,
        to,
      });
    },
    healthChanged(u, healthy, reason) {
      metrics.setHealth(u.service, u.id, healthy);
      cluster?.healthChanged?.(u.id, healthy, reason);
      if (healthy) u.limiter?.restartWarmUp("instance");
      // The level says how bad the news is: an ejection needs attention, a recovery does not.
      const fields = { event: "health", service: u.service, instance: u.id, healthy, reason };
      if (healthy) logger.info("instance recovered", fields);
      else logger.warn("instance ejected", fields);
    },
    probeOverruled(u, detail) {
      logger.warn("health probe failing, instance kept: live requests succeed (check its health-check)", {
        event: "health",
        service: u.service,
        instance: u.id,
        reason: detail,
      });
    },
  };
}
