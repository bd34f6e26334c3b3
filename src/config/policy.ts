/**
 * Resolution of the policy blocks (`load-balance`, `rate-limit`, `circuit-breaker`, `fallback`,
 * `timeouts`, `retry`, `health-check`): key by key, a service's own value wins over the global
 * block's, which wins over the built-in default. `rate-limit` is the exception: a block is taken
 * whole (JAiRouter semantics), because mixing a service's capacity with the global rate would
 * describe a limiter nobody wrote.
 *
 * @module
 */

import type { BreakerConfig, LimitScope, RateLimitConfig, ServiceKind } from "../types.ts";
import {
  BREAKER_DEFAULTS,
  FALLBACK_DEFAULTS,
  HEALTH_DEFAULTS,
  LOAD_BALANCE_DEFAULTS,
  RATE_LIMIT_DEFAULTS,
  RETRY_DEFAULTS,
  timeoutDefaults,
  WARM_UP_INITIAL_FRACTION,
} from "./defaults.ts";
import type { PolicyInput, RateLimitInput } from "./schema.ts";
import { resolvePrefix } from "./signals.ts";
import type { FallbackConfig, HealthConfig, LoadBalanceConfig, RetryConfig, TimeoutConfig } from "./types.ts";

/** The first defined value. */
function first<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

/** `{ [key]: value }` when the value is defined, else `{}`: optional keys stay absent. */
function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Policy blocks from the most specific level to the least (service, `model`, `model.services`). */
export type Levels = readonly (PolicyInput | undefined)[];

/** Resolves `load-balance`. */
export function resolveLoadBalance(levels: Levels): LoadBalanceConfig {
  const blocks = levels.map((l) => l?.loadBalance);
  const d = LOAD_BALANCE_DEFAULTS;
  return {
    type: first(...blocks.map((b) => b?.type)) ?? d.type,
    hashAlgorithm: first(...blocks.map((b) => b?.hashAlgorithm)) ?? d.hashAlgorithm,
    hashKey: first(...blocks.map((b) => b?.hashKey)) ?? d.hashKey,
    loadFactor: first(...blocks.map((b) => b?.loadFactor)) ?? d.loadFactor,
    kvSaturation: first(...blocks.map((b) => b?.kvSaturation)) ?? d.kvSaturation,
    prefix: resolvePrefix(blocks.map((b) => b?.prefix)),
  };
}

/** Resolves `circuit-breaker`. A written block is enabled unless it says `enabled: false`. */
export function resolveBreaker(levels: Levels): BreakerConfig {
  const blocks = levels.map((l) => l?.circuitBreaker);
  const d = BREAKER_DEFAULTS;
  return {
    enabled: first(...blocks.map((b) => b?.enabled)) ?? d.enabled,
    failureThreshold: first(...blocks.map((b) => b?.failureThreshold)) ?? d.failureThreshold,
    timeoutMs: first(...blocks.map((b) => b?.timeout)) ?? d.timeoutMs,
    successThreshold: first(...blocks.map((b) => b?.successThreshold)) ?? d.successThreshold,
    halfOpenMaxCalls: first(...blocks.map((b) => b?.halfOpenMaxCalls)) ?? d.halfOpenMaxCalls,
  };
}

/** Resolves `fallback`. Off when no level writes a block; a written block is on by default. */
export function resolveFallback(levels: Levels): FallbackConfig {
  const blocks = levels.map((l) => l?.fallback);
  const d = FALLBACK_DEFAULTS;
  const written = blocks.some((b) => b !== undefined);
  const response = first(...blocks.map((b) => b?.response));
  return {
    enabled: first(...blocks.map((b) => b?.enabled)) ?? (written ? true : d.enabled),
    strategy: first(...blocks.map((b) => b?.strategy)) ?? d.strategy,
    cacheSize: first(...blocks.map((b) => b?.cacheSize)) ?? d.cacheSize,
    cacheTtlMs: first(...blocks.map((b) => b?.cacheTtl)) ?? d.cacheTtlMs,
    ...(response ? { response: { status: response.status ?? 200, body: response.body ?? null } } : {}),
  };
}

/** Resolves `timeouts`, whose defaults depend on the kind of service. */
export function resolveTimeouts(levels: Levels, kind: ServiceKind): TimeoutConfig {
  const blocks = levels.map((l) => l?.timeouts);
  const d = timeoutDefaults(kind);
  return {
    connectMs: first(...blocks.map((b) => b?.connect)) ?? d.connectMs,
    firstByteMs: first(...blocks.map((b) => b?.firstByte)) ?? d.firstByteMs,
    idleMs: first(...blocks.map((b) => b?.idle)) ?? d.idleMs,
    totalMs: first(...blocks.map((b) => b?.total)) ?? d.totalMs,
  };
}

/** Resolves `retry`. */
export function resolveRetry(levels: Levels): RetryConfig {
  const blocks = levels.map((l) => l?.retry);
  return {
    maxAttempts: first(...blocks.map((b) => b?.maxAttempts)) ?? RETRY_DEFAULTS.maxAttempts,
    budgetMs: first(...blocks.map((b) => b?.budget)) ?? RETRY_DEFAULTS.budgetMs,
  };
}

/** Resolves `health-check`. */
export function resolveHealth(levels: Levels): HealthConfig {
  const blocks = levels.map((l) => l?.healthCheck);
  const d = HEALTH_DEFAULTS;
  return {
    enabled: first(...blocks.map((b) => b?.enabled)) ?? d.enabled,
    intervalMs: first(...blocks.map((b) => b?.interval)) ?? d.intervalMs,
    timeoutMs: first(...blocks.map((b) => b?.timeout)) ?? d.timeoutMs,
    type: first(...blocks.map((b) => b?.type)) ?? d.type,
    ...defined("path", first(...blocks.map((b) => b?.path))),
    ...defined("method", first(...blocks.map((b) => b?.method))),
    ...defined("expectStatus", first(...blocks.map((b) => b?.expectStatus))),
    healthyThreshold: first(...blocks.map((b) => b?.healthyThreshold)) ?? d.healthyThreshold,
    unhealthyThreshold: first(...blocks.map((b) => b?.unhealthyThreshold)) ?? d.unhealthyThreshold,
    passiveFailures: first(...blocks.map((b) => b?.passiveFailures)) ?? d.passiveFailures,
  };
}

/**
 * Turns one written `rate-limit` block into a `RateLimitConfig`; `undefined` when the block is
 * absent or disabled. `defaultScope` is the level it was written at. Window algorithms count
 * `capacity` requests per `window`, so their `rate` defaults to the matching per-second rate.
 */
export function resolveRateLimit(
  block: RateLimitInput | undefined,
  defaultScope: LimitScope,
): RateLimitConfig | undefined {
  if (block === undefined || block.enabled === false) return undefined;
  const d = RATE_LIMIT_DEFAULTS;
  // The schema requires capacity (and rate for buckets) on enabled blocks.
  const capacity = block.capacity ?? 0;
  const windowMs = block.window ?? d.windowMs;
  return {
    enabled: true,
    algorithm: block.algorithm ?? d.algorithm,
    capacity,
    rate: block.rate ?? (capacity * 1000) / windowMs,
    windowMs,
    scope: block.scope ?? defaultScope,
    clientIpEnable: block.clientIpEnable ?? d.clientIpEnable,
    ...(block.warmUp
      ? {
        warmUp: {
          periodMs: block.warmUp.period ?? 0,
          initialFraction: block.warmUp.initialFraction ?? WARM_UP_INITIAL_FRACTION,
        },
      }
      : {}),
    maxKeys: block.maxKeys ?? d.maxKeys,
    ...(block.unit === "tokens" ? { unit: "tokens" as const } : {}),
  };
}
