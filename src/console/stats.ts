/**
 * What the console keeps of the traffic: one {@linkcode StatsRing} of service series, one of
 * instance series, and the list of recent problems — all fed from the dispatch observer's access
 * records (one call per finished request, see `gateway.ts`).
 *
 * @module
 */

import type { AccessRecord, Clock } from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";
import { createRecentEvents, type RecentEvents } from "./recent.ts";
import { createStatsRing, type StatsRing } from "./stats_ring.ts";

/** Options of {@linkcode createConsoleStats}. */
export interface ConsoleStatsOptions {
  readonly clock: Clock;
  /** Seconds of history per series. @default {900} (15 minutes) */
  readonly seconds?: number;
  /** Instance series kept at most. @default {256} */
  readonly maxInstances?: number;
  /** Problems listed. @default {100} */
  readonly recent?: number;
}

/** The console's traffic history. */
export interface ConsoleStats {
  /** Records one finished request (the dispatch observer's `access`). */
  record(rec: AccessRecord): void;
  /**
   * Records a failed attempt on `instance` that no access record names (the request failed over
   * or gave up): the instance's series count attempts, so an instance being failed away from
   * shows its errors.
   */
  attemptFailed(instance: string): void;
  readonly services: StatsRing;
  readonly instances: StatsRing;
  readonly recent: RecentEvents;
  /** Upper bound of the memory the rings take, in bytes. */
  readonly maxBytes: number;
}

/**
 * Creates the history.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConsoleStats } from "./stats.ts";
 * let now = 5_000;
 * const stats = createConsoleStats({ clock: () => now });
 * stats.record({
 *   requestId: "r1", clientIp: "127.0.0.1", method: "POST", route: "/v1/chat/completions",
 *   service: "chat", model: "m", instance: "chat/m@http://127.0.0.1:1", status: 200,
 *   durationMs: 80, ttftMs: 20, stream: true, tokensOut: 12, retries: 0,
 * });
 * now += 1000;
 * assert.equal(stats.services.window("chat", 1).tokens, 12);
 * assert.equal(stats.instances.window("chat/m@http://127.0.0.1:1", 1).requests, 1);
 * ```
 */
export function createConsoleStats(options: ConsoleStatsOptions): ConsoleStats {
  const seconds = options.seconds ?? 900;
  const services = createStatsRing({ clock: options.clock, seconds, maxSeries: SERVICE_KINDS.length });
  const instances = createStatsRing({
    clock: options.clock,
    seconds,
    maxSeries: options.maxInstances ?? 256,
  });
  const recent = createRecentEvents(options.recent ?? 100);
  return {
    record(rec) {
      if (rec.service !== undefined) {
        // A client that left is not an upstream error; 5xx are (the gateway's or the upstream's),
        // and so is a stream the upstream broke after its 200 went out.
        const errored = rec.status >= 500 || rec.error?.startsWith("upstream_") === true;
        const tokens = rec.tokensOut ?? 0;
        services.record(rec.service, errored, rec.ttftMs, tokens);
        if (rec.instance !== undefined) instances.record(rec.instance, errored, rec.ttftMs, tokens);
      }
      recent.record(rec, options.clock());
    },
    attemptFailed(instance) {
      instances.record(instance, true, undefined, 0);
    },
    services,
    instances,
    recent,
    maxBytes: services.maxBytes + instances.maxBytes,
  };
}
