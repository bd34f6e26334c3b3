/**
 * The live routing table built from a validated {@linkcode Config}: per service, per model, the
 * upstream instances with their strategy, breaker, health and limiter. A config reload builds a
 * new runtime and swaps it atomically; per-instance state (in-flight counts, breaker, health,
 * limiter levels) is carried over by instance id, so requests in flight finish on the old table
 * and release counters that the new table shares.
 *
 * @module
 */

import { getAdapter } from "../adapters/mod.ts";
import { type CircuitBreaker, createBreaker } from "../breaker/mod.ts";
import type { Config, InstanceConfig, ServiceConfig } from "../config/types.ts";
import { createHealthState, type HealthState, isActivelyProbed } from "../health/mod.ts";
import {
  createOutlierDetector,
  FirstByteTimes,
  InstanceProgress,
  type OutlierDetector,
} from "../health/outlier.ts";
import { createLimiter, type KeyedLimiter } from "../limiter/mod.ts";
import type {
  Adapter,
  BreakerState,
  Clock,
  Endpoint,
  InstanceTarget,
  Random,
  RateLimitConfig,
  ServiceKind,
  Strategy,
  UpstreamStats,
} from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";
import { budgetFor, type Gate, gateFor } from "./admission.ts";
import type { AdmissionQueue, QueueBudget } from "./admission_queue.ts";
import { poolRouting } from "./pool.ts";
import { countsTokens } from "./token_estimate.ts";
import type { DialectName } from "../dialects/types.ts";
import { buildCatalogue, type ServiceCatalogue } from "./catalogue.ts";
import { createFallbackCache, type FallbackCache } from "./fallback_cache.ts";
import { modelRename } from "./model_rename.ts";
import type { Reply } from "./request.ts";
import { targetOf } from "./target.ts";
import { WaitCount, WaitingList } from "./waiting.ts";

/** One upstream instance as the request path sees it. */
export interface Upstream extends Endpoint {
  readonly service: ServiceKind;
  /** The public name (the instance `name`): the model clients ask for. */
  readonly model: string;
  /** The name the backend knows (`upstream-model`, else `model`): what the body carries upstream. */
  readonly upstreamModel: string;
  /** Client dialects this instance takes untranslated (`native-dialects`); empty for most. */
  readonly nativeDialects: ReadonlySet<DialectName>;
  /** Puts `model` back where the backend answers with `upstreamModel` (absent when they are equal). */
  readonly rename?: Reply;
  readonly config: InstanceConfig;
  readonly target: InstanceTarget;
  readonly adapter: Adapter;
  readonly breaker: CircuitBreaker;
  readonly health: HealthState;
  readonly limiter?: KeyedLimiter;
  /** The queue of the instance's pool, when the pool has admission limits (drained on release). */
  readonly admission?: AdmissionQueue;
  /** Its attempts still waiting for a first byte (failed over when it is ejected). */
  readonly waiting: WaitingList;
}

/** All instances serving one model name within a service. */
export interface ModelPool {
  readonly name: string;
  readonly upstreams: readonly Upstream[];
  readonly strategy: Strategy<Upstream>;
  /** Hashes a prompt for the strategy; only when it reads prompts (`prefix-affinity`). */
  readonly hashPrompt?: (body: Record<string, unknown>) => Int32Array;
  /**
   * True when some instance of the pool has its load report scraped (`load-signals`): only then
   * do picks get `PickContext.load` (residency and load-aware strategies read it).
   */
  readonly signals: boolean;
  /** Admission limits and queue; absent when no instance has `max-concurrency` and no engine queue gates. */
  readonly gate?: Gate;
  /** The pool's recent successful first-byte times (outlier detection's reference). */
  readonly firstByteTimes: FirstByteTimes;
}

/** One service's routing and governance. */
export interface ServiceRuntime {
  readonly kind: ServiceKind;
  readonly config: ServiceConfig;
  readonly pools: ReadonlyMap<string, ModelPool>;
  /** Every name a client may send (models, aliases, patterns) → its pool and fallback chain. */
  readonly catalogue: ServiceCatalogue;
  /** Service-wide limiter (`rate-limit` of the service, or the global default). */
  readonly limiter?: KeyedLimiter;
  /** Per-client-IP limiter (`client-ip-enable`). */
  readonly ipLimiter?: KeyedLimiter;
  readonly cache?: FallbackCache;
  /**
   * Some limit this service's requests meet counts tokens (`rate-limit.unit: tokens` at the
   * global, service, client-IP, API-key or instance level): requests get a token estimate.
   */
  readonly countsTokens: boolean;
  /** Latency outlier detection (`undefined`: `outlier-detection` is off). */
  readonly outlier?: OutlierDetector;
}

/** The whole live table. */
export interface Runtime {
  readonly config: Config;
  readonly services: Readonly<Record<ServiceKind, ServiceRuntime>>;
  readonly globalLimiter?: KeyedLimiter;
  /** Per-API-key limiters (scope `api-key`), by key name; only keys with a `rate-limit`. */
  readonly keyLimiters: ReadonlyMap<string, KeyedLimiter>;
  /** Every instance of every service, for probes, status and metrics. */
  readonly upstreams: readonly Upstream[];
}

/** Where state changes are reported (logs, metrics). */
export interface RuntimeEvents {
  breakerChanged(u: Upstream, from: BreakerState, to: BreakerState): void;
  healthChanged(u: Upstream, healthy: boolean, reason: string): void;
  /** A failing probe was overruled by live traffic (the probe is probably misconfigured). */
  probeOverruled?(u: Upstream, detail: string): void;
}

/** State that outlives one runtime: keyed by instance id / limiter scope. */
export interface RuntimeState {
  readonly stats: Map<string, UpstreamStats>;
  readonly breakers: Map<string, { key: string; breaker: CircuitBreaker }>;
  readonly health: Map<string, { key: string; state: HealthState }>;
  readonly limiters: Map<string, { key: string; limiter: KeyedLimiter }>;
  /**
   * Per-API-key limiters by key name. Apart from `limiters` because those are persisted
   * (`state.backend: kv`) and key buckets never were.
   */
  readonly keyLimiters: Map<string, { key: string; limiter: KeyedLimiter }>;
  /** The newest object of each instance id (what state-change callbacks report). */
  readonly current: Map<string, Upstream>;
  /** Admission queues by `service/model`, and each service's queue budget: waiters outlive a reload. */
  readonly queues: Map<string, AdmissionQueue>;
  readonly budgets: Map<ServiceKind, QueueBudget>;
  /** Per instance id, the attempts waiting for a first byte. */
  readonly waiting: Map<string, WaitingList>;
  /** Per pool (`<service>/<model>`), the recent successful first-byte times. */
  readonly firstByteTimes: Map<string, FirstByteTimes>;
  /** Attempts waiting over all instances. */
  readonly waitCount: WaitCount;
}

/** A fresh, empty {@linkcode RuntimeState}. */
export function createRuntimeState(): RuntimeState {
  return {
    stats: new Map(),
    breakers: new Map(),
    health: new Map(),
    limiters: new Map(),
    keyLimiters: new Map(),
    current: new Map(),
    queues: new Map(),
    budgets: new Map(),
    waiting: new Map(),
    firstByteTimes: new Map(),
    waitCount: new WaitCount(),
  };
}

/** Dependencies of {@linkcode buildRuntime}. */
export interface RuntimeDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly state: RuntimeState;
  readonly events: RuntimeEvents;
  /**
   * How many processes enforce the same limits with in-process limiters (`server.workers` ×, while
   * Redis is unreachable, `state.replicas`): each local limiter gets capacity and rate ÷ this, so
   * together they stay within the configured limit. @default {1}
   */
  readonly limitShare?: number;
  /** Makes the `cache` fallback's store (default: in process memory; Redis shares it). */
  readonly fallbackCache?: (size: number, ttlMs: number) => FallbackCache;
}

/** `cfg` with its capacity and rate divided by `share` (the same object when `share` is 1). */
function shareOf(cfg: RateLimitConfig, share: number): RateLimitConfig {
  return share === 1 ? cfg : { ...cfg, capacity: cfg.capacity / share, rate: cfg.rate / share };
}

/** The JSON of each config block compared by {@linkcode reuse} (config is frozen: one per object). */
const configKeys = new WeakMap<object, string>();

/**
 * The JSON of a frozen config block, serialised once per object: a service's breaker block is one
 * object for all its instances, so a reload serialises it once, not once per instance.
 */
function keyOf(cfg: object): string {
  let key = configKeys.get(cfg);
  if (key === undefined) configKeys.set(cfg, key = JSON.stringify(cfg));
  return key;
}

/** Reuses a keyed object while its config (`key`) is unchanged, else creates a new one. */
function reuse<T>(map: Map<string, { key: string } & T>, id: string, key: string, make: () => T): T {
  const old = map.get(id);
  if (old && old.key === key) return old;
  const fresh = { key, ...make() };
  map.set(id, fresh);
  return fresh;
}

function limiterFor(
  deps: RuntimeDeps,
  id: string,
  cfg: RateLimitConfig | undefined,
  map = deps.state.limiters,
): KeyedLimiter | undefined {
  if (!cfg || !cfg.enabled) return undefined;
  const share = deps.limitShare ?? 1;
  if (share !== 1) cfg = shareOf(cfg, share);
  return reuse(map, id, keyOf(cfg), () => ({ limiter: createLimiter(cfg, deps.clock) })).limiter;
}

/**
 * The limiters of the API keys with a `rate-limit`. A key keeps its bucket across reloads while
 * its name and its block stay the same (the block is compared here, once per reload, never per
 * request).
 */
function keyLimitersFor(config: Config, deps: RuntimeDeps): Map<string, KeyedLimiter> {
  const out = new Map<string, KeyedLimiter>();
  for (const key of config.auth.keys) {
    const limiter = limiterFor(deps, key.name, key.rateLimit, deps.state.keyLimiters);
    if (limiter) out.set(key.name, limiter);
  }
  return out;
}

/**
 * The instance's health state. Without an active probe nothing could readmit an ejected instance,
 * so passive ejection is off too. A live success within `interval × unhealthy-threshold` (the span
 * the failing probes cover) overrules a probe that would eject the instance.
 */
function healthFor(
  deps: RuntimeDeps,
  inst: InstanceConfig,
  current: () => Upstream | undefined,
  waiting: WaitingList,
): HealthState {
  const h = inst.health;
  const probed = isActivelyProbed(h);
  const opts = {
    healthyThreshold: h.healthyThreshold,
    unhealthyThreshold: h.unhealthyThreshold,
    passiveFailures: probed ? h.passiveFailures : 0,
    liveGraceMs: probed ? h.intervalMs * h.unhealthyThreshold : 0,
  };
  const key =
    `${opts.healthyThreshold}/${opts.unhealthyThreshold}/${opts.passiveFailures}/${opts.liveGraceMs}`;
  return reuse(deps.state.health, inst.id, key, () => ({
    state: createHealthState({
      ...opts,
      clock: deps.clock,
      onChange: (healthy, reason) => {
        const u = current();
        if (u) deps.events.healthChanged(u, healthy, reason);
        // Requests waiting on an instance now out would wait for nothing: they fail over.
        if (!healthy) waiting.ejectAll(reason);
      },
      onProbeOverruled: (detail) => {
        const u = current();
        if (u) deps.events.probeOverruled?.(u, detail);
      },
    }),
  })).state;
}

/** The first-byte times of the pool serving `model` in service `kind` (kept across reloads). */
function firstByteTimesFor(deps: RuntimeDeps, kind: ServiceKind, model: string): FirstByteTimes {
  const key = `${kind}/${model}`;
  let times = deps.state.firstByteTimes.get(key);
  if (!times) deps.state.firstByteTimes.set(key, times = new FirstByteTimes());
  return times;
}

/** The instance's waiting list (kept across reloads by id, like its counters). */
function waitingFor(deps: RuntimeDeps, svc: ServiceConfig, inst: InstanceConfig): WaitingList {
  let list = deps.state.waiting.get(inst.id);
  if (!list) {
    const times = firstByteTimesFor(deps, svc.kind, inst.name);
    list = new WaitingList(deps.state.waitCount, times, new InstanceProgress());
    deps.state.waiting.set(inst.id, list);
  }
  return list;
}

function buildUpstream(
  deps: RuntimeDeps,
  svc: ServiceConfig,
  inst: InstanceConfig,
  clientKeyHeader: string | undefined,
  admission: AdmissionQueue | undefined,
): Upstream {
  let stats = deps.state.stats.get(inst.id);
  if (!stats) {
    stats = { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 };
    deps.state.stats.set(inst.id, stats);
  }
  // Breakers and health outlive one runtime; their callbacks report the instance's current object.
  const current = () => deps.state.current.get(inst.id);
  const waiting = waitingFor(deps, svc, inst);
  const breaker = reuse(deps.state.breakers, inst.id, keyOf(svc.circuitBreaker), () => ({
    breaker: createBreaker(svc.circuitBreaker, deps.clock, (from, to) => {
      const u = current();
      if (u) deps.events.breakerChanged(u, from, to);
      if (to === "open") waiting.ejectAll("circuit breaker opened");
    }),
  })).breaker;
  const health = healthFor(deps, inst, current, waiting);
  const self: Upstream = {
    id: inst.id,
    weight: inst.weight,
    stats,
    service: svc.kind,
    model: inst.name,
    upstreamModel: inst.upstreamModel ?? inst.name,
    nativeDialects: new Set(inst.nativeDialects),
    ...(inst.upstreamModel !== undefined && inst.upstreamModel !== inst.name
      ? { rename: modelRename(inst.upstreamModel, inst.name) }
      : {}),
    config: inst,
    target: targetOf(inst, clientKeyHeader),
    adapter: getAdapter(inst.adapter),
    breaker,
    health,
    limiter: limiterFor(deps, `instance:${inst.id}`, inst.rateLimit),
    ...(admission !== undefined ? { admission } : {}),
    waiting,
  };
  deps.state.current.set(inst.id, self);
  return self;
}

/**
 * Builds the routing table for `config`, reusing state from `deps.state`.
 */
export function buildRuntime(config: Config, deps: RuntimeDeps): Runtime {
  const all: Upstream[] = [];
  const services = {} as Record<ServiceKind, ServiceRuntime>;
  for (const kind of SERVICE_KINDS) {
    const svc = config.services[kind];
    const byModel = new Map<string, InstanceConfig[]>();
    for (const inst of svc.instances) {
      if (!inst.enabled) continue;
      const list = byModel.get(inst.name) ?? [];
      list.push(inst);
      byModel.set(inst.name, list);
    }
    const budget = budgetFor(deps.state, svc);
    const pools = new Map<string, ModelPool>();
    for (const [name, instances] of byModel) {
      const gate = gateFor(deps.state, svc, name, instances, budget);
      const upstreams = instances.map((inst) =>
        buildUpstream(deps, svc, inst, config.auth.header, gate?.queue)
      );
      all.push(...upstreams);
      pools.set(name, {
        name,
        upstreams,
        ...poolRouting(svc, upstreams, gate, deps.random),
        firstByteTimes: firstByteTimesFor(deps, kind, name),
      });
    }
    const rl = svc.rateLimit;
    // `scope: client-ip` limits each client only; `client-ip-enable` adds per-client buckets to
    // the shared service bucket.
    const perClientOnly = rl?.scope === "client-ip";
    const ipCfg = rl?.enabled && (rl.clientIpEnable || perClientOnly) ? rl : undefined;
    services[kind] = {
      kind,
      config: svc,
      pools,
      catalogue: buildCatalogue(pools, config.catalogue.aliases, svc.fallbacks),
      limiter: perClientOnly ? undefined : limiterFor(deps, `service:${kind}`, rl),
      ipLimiter: limiterFor(deps, `client-ip:${kind}`, ipCfg),
      cache: svc.fallback.enabled && svc.fallback.strategy === "cache"
        ? (deps.fallbackCache ?? ((n, ttl) => createFallbackCache(n, ttl, deps.clock)))(
          svc.fallback.cacheSize,
          svc.fallback.cacheTtlMs,
        )
        : undefined,
      countsTokens: countsTokens(config, svc),
      outlier: svc.outlier.enabled ? createOutlierDetector(svc.outlier) : undefined,
    };
  }
  return {
    config,
    services,
    globalLimiter: limiterFor(deps, "global", config.globalRateLimit),
    keyLimiters: keyLimitersFor(config, deps),
    upstreams: all,
  };
}
