/**
 * Assembles one gateway from a validated config and the outside-world handles that `main.ts`
 * creates (clock, randomness, fetch, log writer): runtime, logger, metrics, probers and scrapers
 * (`gateway/checks.ts`), state-change events (`gateway/events.ts`) and the Hono app. It opens no
 * sockets itself; `src/lifecycle/` (or a test) serves `gateway.fetch`.
 *
 * @module
 */

import type { Hono } from "hono";
import type { Config } from "./config/types.ts";
import { configSecrets } from "./config/secrets.ts";
import { ShuttingDownError } from "./errors.ts";
import { createChecks } from "./gateway/checks.ts";
import { runtimeEvents } from "./gateway/events.ts";
import { feedMetrics } from "./gateway/metric_sources.ts";
import type { TcpConnect } from "./health/mod.ts";
import { type AppEnv, createApp } from "./http/app.ts";
import { type BodyGuardOptions, PendingBodies } from "./http/body_guard.ts";
import { bodyGuards } from "./http/body_limits.ts";
import { createLogger, type Logger } from "./observe/logger.ts";
import { createLoopLag } from "./observe/loop_lag.ts";
import { createMetrics, type Metrics } from "./observe/metrics.ts";
import type { ProcessReadings } from "./observe/process_metrics.ts";
import type { DispatchObserver } from "./proxy/dispatch.ts";
import type { ScopeDecider } from "./proxy/request.ts";
import { DeadlineSweep } from "./proxy/deadlines.ts";
import {
  configuredIds,
  configuredPools,
  forgetRemoved,
  forgetRemovedKeys,
  forgetRemovedPools,
} from "./proxy/forget_removed.ts";
import { OutlierMonitor } from "./proxy/outlier_monitor.ts";
import { upstreamOf } from "./proxy/upstream_index.ts";
import {
  buildRuntime,
  createRuntimeState,
  type Runtime,
  type RuntimeDeps,
  type RuntimeState,
} from "./proxy/runtime.ts";
import type { PersistTargets } from "./state/mod.ts";
import type { AccessRecord, BreakerState, Clock, Random, ServiceKind } from "./types.ts";

export { consoleLoad } from "./console/engine_load.ts";

/** Handles to the outside world, created by `main.ts` (or a test). */
export interface GatewayDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly fetch: typeof fetch;
  /** Opens TCP connections for `health-check.type: tcp` probes (`Deno.connect` in `main.ts`). */
  readonly connect?: TcpConnect;
  /** Where log lines go. */
  readonly write: (line: string) => void;
  /** Mounts extra routes (admin API, auth) on the app. */
  readonly extend?: (app: Hono<AppEnv>, gateway: Gateway) => void;
  /** Deno's built-in OpenTelemetry is on (it then propagates `traceparent` itself). */
  readonly otel?: boolean;
  /** Watches attempt deadlines (default: one sweep on real, unref'd timers; tests pass manual ones). */
  readonly deadlines?: DeadlineSweep;
  /**
   * Decides the request-level limit scopes (default: the in-process limiters). A cluster-wide
   * backend (Redis) is injected here.
   */
  readonly limits?: ScopeDecider;
  /** The process's memory, CPU and descriptors for `/metrics` (`main.ts`); absent: not exported. */
  readonly process?: ProcessReadings;
  /** Also called with every access record (the operator console's history). */
  readonly onAccess?: (rec: AccessRecord) => void;
  /**
   * Also called with the instance id of every attempt that failed before reaching the client —
   * failovers, which no access record names (the console's per-instance error ratio).
   */
  readonly onAttemptFailed?: (instance: string) => void;
  /** Shares state with other workers and replicas (`src/cluster/`); absent = this process alone. */
  readonly cluster?: GatewayCluster;
}

/** What a cluster (workers on one host, replicas on one Redis) adds to a gateway. */
export interface GatewayCluster {
  /** Local limiters get limits ÷ this (see `RuntimeDeps.limitShare`). */
  readonly limitShare?: number;
  /** The `cache` fallback's store. */
  readonly fallbackCache?: RuntimeDeps["fallbackCache"];
  /** Told of every local breaker and health transition. */
  breakerChanged?(id: string, to: BreakerState): void;
  healthChanged?(id: string, healthy: boolean, reason: string): void;
  /** The running configuration revision (`/readyz`, status pages). */
  revision?(): string;
  /** The host-wide `/metrics` text (all workers), instead of this isolate's own. */
  renderMetrics?(): Promise<string>;
}

/** A running gateway (without its listener). */
export interface Gateway {
  /** The request handler to pass to `Deno.serve`. */
  readonly fetch: (req: Request, info?: Deno.ServeHandlerInfo<Deno.NetAddr>) => Response | Promise<Response>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly state: RuntimeState;
  /** The live routing table. */
  runtime(): Runtime;
  /** Swaps in a new config atomically; requests in flight finish on the old table. */
  reload(config: Config): void;
  /** Starts active health checks and engine load-signal scraping. */
  startProbes(): void;
  /** Marks the gateway as draining (`/readyz` → 503); requests are still served. */
  drain(): void;
  /**
   * Cuts every request still running (the shutdown deadline has passed): a stream ends with a final
   * SSE error event (`gateway_shutdown`), a request still waiting for its upstream gets a 503, and
   * later requests get a 503 at once. Counters are released by the usual end-of-attempt path.
   * Returns the number of upstream attempts that were in flight.
   */
  cut(): number;
  /** Upstream attempts in flight, over all instances. */
  inFlight(): number;
  /** The longest the event loop ran late in the last 10 s, ms (0 until the probes start). */
  loopLagMs(): number;
  /**
   * The request-body limits and deadlines of the current `server.*` block, with the gateway's one
   * pending-bytes count: for bodies read outside the proxy routes (the admin API).
   */
  bodyGuard(): BodyGuardOptions;
  /** Stops probes and the timeout sweep (after the last request has ended). */
  close(): Promise<void>;
  /** Breakers and limiters by stable name, for `state.backend: kv` persistence. */
  persistTargets(): PersistTargets;
}

/**
 * Builds a gateway for `config`.
 */
export function createGateway(initial: Config, deps: GatewayDeps): Gateway {
  let config = initial;
  let secretList: readonly string[] = configSecrets(config);
  let draining = false;
  const logger = createLogger({
    level: config.log.level,
    format: config.log.format,
    write: deps.write,
    clock: deps.clock,
    // One list per config (rebuilt on reload), so the logger can reuse its prepared form.
    secrets: () => secretList,
  });
  const metrics = createMetrics({ process: deps.process });
  // The real event loop's lateness, whatever clock the rest runs on (started with the probes).
  const loopLag = createLoopLag({ clock: () => performance.now() });
  metrics.setLoopLagSource(loopLag.maxMs);
  const state = createRuntimeState();
  const deadlines = deps.deadlines ?? new DeadlineSweep();
  const pendingBodies = new PendingBodies();
  metrics.setPendingBodySource(() => pendingBodies.bytes);
  const bodyGuard = bodyGuards(pendingBodies, deadlines);
  const shutdown = new AbortController();
  const runtimeDeps: RuntimeDeps = {
    clock: deps.clock,
    random: deps.random,
    state,
    events: runtimeEvents({ metrics, logger, cluster: deps.cluster }),
    limitShare: deps.cluster?.limitShare,
    fallbackCache: deps.cluster?.fallbackCache,
  };
  let runtime = buildRuntime(config, runtimeDeps);
  // Latency outlier detection rides the deadline sweep while requests wait (no timer of its own).
  new OutlierMonitor({ sweep: deadlines, runtime: () => runtime, clock: deps.clock, count: state.waitCount });
  feedMetrics(metrics, () => runtime, state);
  for (const u of runtime.upstreams) metrics.setHealth(u.service, u.id, u.health.healthy);
  /** A slot may have freed without a request ending (an engine's queue shrank, a reading went stale). */
  const drainQueues = (kind?: ServiceKind) => {
    for (const [key, queue] of state.queues) {
      if (kind === undefined || key.startsWith(`${kind}/`)) queue.drain();
    }
  };

  const observer: DispatchObserver = {
    access(rec) {
      metrics.recordRequest(rec);
      logger.access(rec);
      deps.onAccess?.(rec);
    },
    retry: (u) => metrics.recordRetry(u.service, u.model, u.id),
    fallback: (service, model, strategy) => metrics.recordFallback(service, model, strategy),
    rateLimited: (scope, service) => metrics.recordRateLimited(scope as "global", service),
    upstreamError: (u, kind) => metrics.recordUpstreamError(u.service, u.id, kind),
    attemptFailed: (u) => deps.onAttemptFailed?.(u.id),
    queueLeft: (service, outcome, waitedMs) => metrics.recordQueueWait(service, outcome, waitedMs),
  };

  const checks = createChecks({
    config: () => config,
    runtime: () => runtime,
    fetch: deps.fetch,
    connect: deps.connect,
    clock: deps.clock,
    logger,
    metrics,
    onScrape: drainQueues,
  });
  // Attach signals now (so status and metrics show them before the first scrape) and after reloads.
  checks.attach();

  const gateway: Gateway = {
    fetch: (req, info) => app.fetch(req, info ?? {}),
    logger,
    metrics,
    state,
    runtime: () => runtime,
    reload(next) {
      const built = buildRuntime(next, runtimeDeps);
      // By id, one pass each way (a scan per instance took 300–700 ms at 7,710 instances).
      for (const u of runtime.upstreams) {
        if (upstreamOf(built, u.id) === undefined) metrics.removeInstance(u.service, u.id);
      }
      forgetRemoved(state, configuredIds(next));
      forgetRemovedPools(state, configuredPools(next));
      forgetRemovedKeys(state, next);
      const previous = runtime;
      config = next;
      secretList = configSecrets(config);
      runtime = built;
      // New instances and new health states get a series; the others' is kept current by events.
      for (const u of runtime.upstreams) {
        if (upstreamOf(previous, u.id)?.health !== u.health) {
          metrics.setHealth(u.service, u.id, u.health.healthy);
        }
      }
      checks.attach();
      drainQueues();
      checks.restart();
      logger.info("configuration applied", {
        event: "config",
        source: next.source,
        instances: runtime.upstreams.length,
      });
    },
    startProbes() {
      loopLag.start();
      checks.start();
    },
    drain() {
      draining = true;
    },
    cut() {
      const n = gateway.inFlight();
      draining = true;
      if (!shutdown.signal.aborted) shutdown.abort(new ShuttingDownError());
      return n;
    },
    bodyGuard: () => bodyGuard(runtime.config.server),
    loopLagMs: loopLag.maxMs,
    inFlight() {
      let n = 0;
      for (const stats of state.stats.values()) n += stats.inFlight;
      return n;
    },
    persistTargets() {
      const breakers = new Map([...state.breakers].map(([id, v]) => [id, v.breaker]));
      const limiters = new Map([...state.limiters].map(([id, v]) => [id, v.limiter]));
      return { breakers, limiters };
    },
    async close() {
      loopLag.stop();
      deadlines.stop();
      await checks.stop();
    },
  };

  const app = createApp({
    runtime: () => runtime,
    dispatch: {
      fetch: deps.fetch,
      clock: deps.clock,
      deadlines,
      observer,
      shutdown: shutdown.signal,
      limits: deps.limits,
      live: () => runtime,
    },
    clock: deps.clock,
    random: deps.random,
    metrics: deps.cluster?.renderMetrics
      ? { render: deps.cluster.renderMetrics, contentType: metrics.contentType }
      : metrics,
    bodyGuard,
    ready: () => !draining,
    revision: deps.cluster?.revision,
    otel: deps.otel,
    extend: deps.extend ? (a) => deps.extend!(a, gateway) : undefined,
  });
  return gateway;
}
