/**
 * What the workers of one host share without Redis, through their main thread: breaker and
 * health changes (one worker's ejection or open breaker reaches the others in one message hop,
 * and half-open trials run once for the host), and every `state.share-interval` the in-flight
 * counts and latency per instance that least-connections and least-latency see. Limits are not
 * shared this way: each worker enforces its share (`limitShare`), as the README says.
 *
 * @module
 */

import type { Gateway, GatewayCluster } from "../gateway.ts";
import type { Clock, Schedule } from "../types.ts";
import { createGovernanceSync, gatewayInstances, type GovernanceSync } from "./governance.ts";
import { startLoadShare } from "./load_share.ts";
import type { SupervisorLink } from "./workers.ts";

/** Options of {@linkcode createWorkerCluster}. */
export interface WorkerClusterOptions {
  readonly link: Pick<SupervisorLink, "bus" | "exchangeLoad">;
  /** This worker's id among the host's workers. */
  readonly replica: string;
  readonly clock: Clock;
  readonly schedule: Schedule;
  /** `state.share-interval`, ms. */
  readonly shareIntervalMs: number;
}

/** A worker's share of its host. */
export interface WorkerCluster {
  /** Breaker and health hooks for the gateway. */
  readonly hooks: Pick<GatewayCluster, "breakerChanged" | "healthChanged">;
  /** Connects the sync to the gateway and starts the load exchange. */
  start(gateway: Gateway): void;
  close(): void;
}

/** Creates a worker's sync with the others (not started). */
export function createWorkerCluster(options: WorkerClusterOptions): WorkerCluster {
  const { link, replica, clock, schedule, shareIntervalMs } = options;
  let governance: GovernanceSync | undefined;
  let stopShare = () => {};
  return {
    hooks: {
      breakerChanged: (id, to) => governance?.breakerChanged(id, to),
      healthChanged: (id, healthy, reason) => governance?.healthChanged(id, healthy, reason),
    },
    start(g) {
      governance = createGovernanceSync({
        bus: link.bus,
        replica,
        clock,
        ...gatewayInstances(g),
        log: (level, msg, fields) => g.logger[level](msg, fields),
      });
      stopShare = startLoadShare({
        intervalMs: shareIntervalMs,
        schedule,
        instances: () => g.runtime().upstreams,
        exchange: link.exchangeLoad,
      });
    },
    close: () => stopShare(),
  };
}
