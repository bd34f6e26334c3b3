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
import { createBreaker } from "../breaker/mod.ts";
import type { Config, InstanceConfig, ServiceConfig } from "../config/types.ts";
import { createHealthState, type HealthState, isActivelyProbed } from "../health/mod.ts";
import { createOutlierDetector, FirstByteTimes, InstanceProgress } from "../health/outlier.ts";
import { createLimiter, type KeyedLimiter } from "../limiter/mod.ts";
import type { Clock, Random, RateLimitConfig, ServiceKind } from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";
import { budgetFor, gateFor } from "./admission.ts";
import type { AdmissionQueue } from "./admission_queue.ts";
import { poolRouting } from "./pool.ts";
import { countsTokens } from "./token_estimate.ts";
import { buildCatalogue } from "./catalogue.ts";
import { createFallbackCache, type FallbackCache } from "./fallback_cache.ts";
import { modelRename } from "./model_rename.ts";
import { targetOf } from "./target.ts";
import { WaitCount, WaitingList } from "./waiting.ts";

// The shapes it builds, for the modules that import them from here.
export type * from "./runtime_types.ts";
import type {
  ModelPool,
  Runtime,
  RuntimeEvents,
  RuntimeState,
  ServiceRuntime,
  Upstream,
} from "./runtime_types.ts";

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
