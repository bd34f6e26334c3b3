/**
 * Assembles one gateway from a validated config and the outside-world handles that `main.ts`
 * creates (clock, randomness, fetch, log writer): runtime, logger, metrics, probers and the Hono
 * app. It opens no sockets itself; `main.ts` (or a test) serves `gateway.fetch`.
 *
 * @module
 */

import type { Hono } from "hono";
import { baseUrlSecrets } from "./config/base_url.ts";
import type { Config } from "./config/types.ts";
import { ShuttingDownError } from "./errors.ts";
import { createProber, isActivelyProbed, planProbe, type Prober, type TcpConnect } from "./health/mod.ts";
import { type AppEnv, createApp } from "./http/app.ts";
import { type BodyGuardOptions, PendingBodies } from "./http/body_guard.ts";
import { bodyGuards } from "./http/body_limits.ts";
import { createLogger, type Logger } from "./observe/logger.ts";
import { createMetrics, type Metrics } from "./observe/metrics.ts";
import type { DispatchObserver } from "./proxy/dispatch.ts";
import type { ScopeDecider } from "./proxy/request.ts";
import { DeadlineSweep } from "./proxy/deadlines.ts";
import { configuredIds, forgetRemoved } from "./proxy/forget_removed.ts";
import { OutlierMonitor } from "./proxy/outlier_monitor.ts";
import { upstreamOf } from "./proxy/upstream_index.ts";
import {
  buildRuntime,
  createRuntimeState,
  type Runtime,
  type RuntimeDeps,
  type RuntimeState,
  type Upstream,
} from "./proxy/runtime.ts";
import type { EngineLoad as ConsoleEngineLoad } from "./console/snapshot.ts";
import { createLoadScraper, type LoadScraper } from "./signals/scraper.ts";
import { scrapeTargets } from "./signals/targets.ts";
import type { PersistTargets } from "./state/mod.ts";
import type { BreakerState, Clock, Random, ServiceKind } from "./types.ts";
import { SERVICE_KINDS } from "./types.ts";

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
  /** Also called with every access record (the operator console's history). */
  readonly onAccess?: (rec: import("./types.ts").AccessRecord) => void;
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
 * What the operator console shows of an instance's engine (its injected `loadOf`): the queue
 * depth and KV-cache use the engine last reported, while that reading is trusted — the same
 * numbers as `dairouter_engine_queue_depth` / `_kv_cache_usage`; `undefined` without one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { consoleLoad } from "./gateway.ts";
 * const status = () => ({ waiting: 3, kvUsage: 0.5, trusted: true });
 * const u = { stats: { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0, engine: { read: () => undefined, status } } };
 * assert.deepEqual(consoleLoad(u), { queueDepth: 3, kvCacheUsage: 0.5 });
 * ```
 */
export function consoleLoad(u: Pick<Upstream, "stats">): ConsoleEngineLoad | undefined {
  const s = u.stats.engine?.status();
  if (s === undefined || !s.trusted) return undefined;
  if (s.waiting === undefined && s.kvUsage === undefined) return undefined;
  return {
    ...(s.waiting !== undefined ? { queueDepth: s.waiting } : {}),
    ...(s.kvUsage !== undefined ? { kvCacheUsage: s.kvUsage } : {}),
  };
}

/** Secrets of a config, so the logger can mask them wherever they appear. */
function* secretsOf(config: Config): Iterable<string> {
  for (const kind of SERVICE_KINDS) {
    for (const inst of config.services[kind].instances) {
      if (inst.apiKey) yield inst.apiKey;
      yield* baseUrlSecrets(inst.baseUrl);
      for (const [name, value] of Object.entries(inst.headers)) {
        if (/auth|key|token|secret/i.test(name)) yield value;
      }
    }
  }
}

/**
 * Builds a gateway for `config`.
 */
export function createGateway(initial: Config, deps: GatewayDeps): Gateway {
  let config = initial;
  let secretList: readonly string[] = [...secretsOf(config)];
  let draining = false;
  const logger = createLogger({
    level: config.log.level,
    format: config.log.format,
    write: deps.write,
    clock: deps.clock,
    // One list per config (rebuilt on reload), so the logger can reuse its prepared form.
    secrets: () => secretList,
  });
  const metrics = createMetrics();
  const state = createRuntimeState();
  const deadlines = deps.deadlines ?? new DeadlineSweep();
  const pendingBodies = new PendingBodies();
  metrics.setPendingBodySource(() => pendingBodies.bytes);
  const bodyGuard = bodyGuards(pendingBodies, deadlines);
  const shutdown = new AbortController();
  const events = {
    breakerChanged(u: { id: string; service: import("./types.ts").ServiceKind }, from: string, to: string) {
      metrics.setBreakerState(u.service, u.id, to as "closed" | "open" | "half_open");
      deps.cluster?.breakerChanged?.(u.id, to as BreakerState);
      logger.warn("circuit breaker state changed", {
        event: "breaker",
        service: u.service,
        instance: u.id,
        from,
        to,
      });
    },
    healthChanged(u: import("./proxy/runtime.ts").Upstream, healthy: boolean, reason: string) {
      metrics.setHealth(u.service, u.id, healthy);
      deps.cluster?.healthChanged?.(u.id, healthy, reason);
      if (healthy) u.limiter?.restartWarmUp("instance");
      // The level says how bad the news is: an ejection needs attention, a recovery does not.
      const fields = { event: "health", service: u.service, instance: u.id, healthy, reason };
      if (healthy) logger.info("instance recovered", fields);
      else logger.warn("instance ejected", fields);
    },
    probeOverruled(u: import("./proxy/runtime.ts").Upstream, detail: string) {
      logger.warn("health probe failing, instance kept: live requests succeed (check its health-check)", {
        event: "health",
        service: u.service,
        instance: u.id,
        reason: detail,
      });
    },
  };
  const runtimeDeps: RuntimeDeps = {
    clock: deps.clock,
    random: deps.random,
    state,
    events,
    limitShare: deps.cluster?.limitShare,
    fallbackCache: deps.cluster?.fallbackCache,
  };
  let runtime = buildRuntime(config, runtimeDeps);
  // Latency outlier detection rides the deadline sweep while requests wait (no timer of its own).
  new OutlierMonitor({ sweep: deadlines, runtime: () => runtime, clock: deps.clock, count: state.waitCount });
  metrics.setInFlightSource(function* () {
    for (const u of runtime.upstreams) {
      yield { service: u.service, instance: u.id, inFlight: u.stats.inFlight };
    }
  });
  for (const u of runtime.upstreams) metrics.setHealth(u.service, u.id, u.health.healthy);
  metrics.setQueueSource(function* () {
    for (const kind of SERVICE_KINDS) {
      const pools = runtime.services[kind].pools.values();
      if (pools.some((p) => p.gate !== undefined)) {
        yield { service: kind, depth: state.budgets.get(kind)?.depth ?? 0 };
      }
    }
  });
  /** A slot may have freed without a request ending (an engine's queue shrank, a reading went stale). */
  const drainQueues = (kind?: ServiceKind) => {
    for (const [key, queue] of state.queues) {
      if (kind === undefined || key.startsWith(`${kind}/`)) queue.drain();
    }
  };
  metrics.setEngineSource(function* () {
    for (const u of runtime.upstreams) {
      if (u.stats.engine) yield { service: u.service, instance: u.id, status: u.stats.engine.status() };
    }
  });

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

  /** The instances of `kind` with an active probe, as the prober's targets (read every round). */
  function* probeTargets(kind: import("./types.ts").ServiceKind) {
    for (const u of runtime.upstreams) {
      if (u.service !== kind) continue;
      const plan = planProbe(u.config.health, () => u.adapter.probe(u.service, u.target), u.target.baseUrl);
      if (plan) yield { id: u.id, state: u.health, ...plan };
    }
  }

  let probers: Prober[] = [];
  let probing = false;
  /** One prober per service that has an actively probed instance; interval and timeout per service. */
  const makeProbers = (): Prober[] =>
    SERVICE_KINDS.filter((k) => config.services[k].instances.some((i) => isActivelyProbed(i.health)))
      .map((kind) => {
        const h = config.services[kind].health;
        return createProber({
          fetch: deps.fetch,
          connect: deps.connect,
          clock: deps.clock,
          intervalMs: h.intervalMs,
          timeoutMs: h.timeoutMs,
          targets: () => probeTargets(kind),
          onError: (error) => logger.error("health probe error", { service: kind, error: String(error) }),
        });
      });

  // Engine load signals: one scraper per service, like the probers; the targets are recomputed at
  // every tick, which also attaches (or drops) each instance's `stats.engine`.
  let scrapers: LoadScraper[] = [];
  const signalTargets = (kind: ServiceKind) =>
    scrapeTargets(
      runtime.upstreams.filter((u) => u.service === kind),
      config.services[kind].loadSignals,
      deps.clock,
    );
  const makeScrapers = (): LoadScraper[] =>
    SERVICE_KINDS.filter((k) =>
      config.services[k].loadSignals.enabled && config.services[k].instances.length > 0
    )
      .map((kind) => {
        const s = config.services[kind].loadSignals;
        return createLoadScraper({
          fetch: deps.fetch,
          clock: deps.clock,
          intervalMs: s.intervalMs,
          timeoutMs: s.timeoutMs,
          maxBytes: s.maxBytes,
          targets: () => signalTargets(kind),
          onScrape: () => drainQueues(kind),
          onError: (error) => logger.error("load signal error", { service: kind, error: String(error) }),
        });
      });
  // Attach signals now (so status and metrics show them before the first scrape) and after reloads.
  const attachSignals = () => {
    for (const kind of SERVICE_KINDS) signalTargets(kind);
  };
  attachSignals();

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
      const previous = runtime;
      config = next;
      secretList = [...secretsOf(config)];
      runtime = built;
      // New instances and new health states get a series; the others' is kept current by events.
      for (const u of runtime.upstreams) {
        if (upstreamOf(previous, u.id)?.health !== u.health) {
          metrics.setHealth(u.service, u.id, u.health.healthy);
        }
      }
      attachSignals();
      drainQueues();
      if (probing) {
        const old = probers;
        probers = makeProbers();
        for (const p of probers) p.start();
        for (const p of old) void p.stop();
        const oldScrapers = scrapers;
        scrapers = makeScrapers();
        for (const s of scrapers) s.start();
        for (const s of oldScrapers) void s.stop();
      }
      logger.info("configuration applied", {
        event: "config",
        source: next.source,
        instances: runtime.upstreams.length,
      });
    },
    startProbes() {
      if (probing) return;
      probing = true;
      probers = makeProbers();
      for (const p of probers) p.start();
      scrapers = makeScrapers();
      for (const s of scrapers) s.start();
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
      deadlines.stop();
      probing = false;
      await Promise.all([...probers.map((p) => p.stop()), ...scrapers.map((s) => s.stop())]);
      probers = [];
      scrapers = [];
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
