/**
 * Built-in defaults, applied after the service block and the global block had their say. The
 * numbers follow JAiRouter where it has one (breaker 5 / 60 s / 2, fallback cache 100 / 10 min,
 * `random` balancing) and are ours elsewhere.
 *
 * @module
 */

import type { BreakerConfig, RateLimitConfig, ServiceKind } from "../types.ts";
import type {
  AdminConfig,
  FallbackConfig,
  HealthConfig,
  LoadBalanceConfig,
  LogConfig,
  RetryConfig,
  ServerConfig,
  StateConfig,
  TimeoutConfig,
} from "./types.ts";
import { KV_SATURATION_DEFAULT, PREFIX_DEFAULTS } from "./signals.ts";

/**
 * `server` defaults: all interfaces, port 8080, 25 MiB bodies (audio uploads); a body may pause
 * 30 s and take 5 min in all, 256 MiB of bodies in reception at once, no periodic listener renewal,
 * the connection cap derived from the open-file limit. On SIGTERM: 5 s of
 * accepting with `/readyz` at 503 (a few load-balancer check periods), then 30 s for what is in
 * flight — 35 s in all, inside systemd's default 90 s stop timeout.
 */
export const SERVER_DEFAULTS: ServerConfig = {
  host: "0.0.0.0",
  port: 8080,
  bodyLimit: 25 * 1024 * 1024,
  bodyIdleTimeoutMs: 30_000,
  bodyTimeoutMs: 300_000,
  maxPendingBodyBytes: 256 * 1024 * 1024,
  headerTimeoutMs: 10_000,
  maxConnections: 0,
  trustedProxies: [],
  drainDelayMs: 5_000,
  shutdownTimeoutMs: 30_000,
  workers: 1,
  workerStallTimeoutMs: 10_000,
};

/** `log` defaults. */
export const LOG_DEFAULTS: LogConfig = { level: "info", format: "json", maxPendingBytes: 8 * 1024 * 1024 };

/** `admin` defaults: off (it is on only when an `admin` block with a token is written). */
export const ADMIN_DEFAULTS: AdminConfig = { enabled: false, pathPrefix: "/admin" };

/**
 * `state` defaults: in memory, flushed every second when a store is used. For Redis: keys under
 * `dairouter:`, 50 ms per call, per-replica limits (÷ `replicas`) while Redis is unreachable;
 * in-flight counts and latency shared every 100 ms.
 */
export const STATE_DEFAULTS: StateConfig = {
  backend: "memory",
  flushIntervalMs: 1000,
  keyPrefix: "dairouter:",
  timeoutMs: 50,
  onUnavailable: "local",
  replicas: 1,
  shareIntervalMs: 100,
};

/** `load-balance` defaults: JAiRouter's default strategy is `random`. */
export const LOAD_BALANCE_DEFAULTS: LoadBalanceConfig = {
  type: "random",
  hashAlgorithm: "fnv1a",
  hashKey: "client-ip",
  loadFactor: 1.25,
  kvSaturation: KV_SATURATION_DEFAULT,
  prefix: PREFIX_DEFAULTS,
};

/** `circuit-breaker` defaults (JAiRouter's numbers); on unless a block disables it. */
export const BREAKER_DEFAULTS: BreakerConfig = {
  enabled: true,
  failureThreshold: 5,
  timeoutMs: 60_000,
  successThreshold: 2,
  halfOpenMaxCalls: 1,
};

/** `fallback` defaults: off unless a block is written (then on unless it says otherwise). */
export const FALLBACK_DEFAULTS: FallbackConfig = {
  enabled: false,
  strategy: "default",
  cacheSize: 100,
  cacheTtlMs: 600_000,
};

/** `retry` defaults: three attempts in all within 30 s. */
export const RETRY_DEFAULTS: RetryConfig = { maxAttempts: 3, budgetMs: 30_000 };

/** `health-check` defaults. */
export const HEALTH_DEFAULTS: HealthConfig = {
  enabled: true,
  intervalMs: 10_000,
  timeoutMs: 3000,
  type: "http",
  healthyThreshold: 1,
  unhealthyThreshold: 2,
  passiveFailures: 3,
};

/**
 * `timeouts` defaults for a service. Generation (chat, audio, images) may think for minutes before
 * the first byte; embedding and rerank answer fast or not at all.
 */
export function timeoutDefaults(kind: ServiceKind): TimeoutConfig {
  const quick = kind === "embedding" || kind === "rerank";
  return { connectMs: 5000, firstByteMs: quick ? 30_000 : 120_000, idleMs: 60_000, totalMs: 0 };
}

/** `rate-limit` defaults for the keys a block may leave out. */
export const RATE_LIMIT_DEFAULTS: Pick<
  RateLimitConfig,
  "algorithm" | "windowMs" | "clientIpEnable" | "maxKeys"
> = {
  algorithm: "token-bucket",
  windowMs: 1000,
  clientIpEnable: false,
  maxKeys: 100_000,
};

/** `rate-limit.warm-up.initial-fraction` when a warm-up block leaves it out. */
export const WARM_UP_INITIAL_FRACTION = 0.1;

/** `adapter` when neither instance, service nor global block names one. */
export const DEFAULT_ADAPTER = "openai";
