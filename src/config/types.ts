/**
 * The validated, frozen configuration the gateway runs on. The loader (`load.ts`) turns the
 * JAiRouter-compatible YAML (kebab-case or camelCase keys, root `model:`) into this shape once,
 * at the boundary; everything downstream trusts it.
 *
 * @module
 */

import type {
  AdapterName,
  BreakerConfig,
  HashAlgorithm,
  ProbeMethod,
  RateLimitConfig,
  ServiceKind,
  StatusRange,
  StrategyName,
} from "../types.ts";
import type { InstanceLoadSignalsConfig, LoadSignalsConfig, PrefixConfig } from "./signals.ts";
import type { QueueConfig } from "./queue.ts";
import type { AliasConfig, CatalogueConfig, DialectName, FallbackChain } from "./catalogue.ts";
import type { OutlierConfig } from "./outlier.ts";

export type { AliasConfig, CatalogueConfig, FallbackChain };
export type { InstanceLoadSignalsConfig, LoadSignalsConfig, OutlierConfig, PrefixConfig, QueueConfig };

/** `load-balance` block (global, per service). */
export interface LoadBalanceConfig {
  readonly type: StrategyName;
  readonly hashAlgorithm: HashAlgorithm;
  /**
   * What `ip-hash` / `consistent-hash-bounded` hash: `client-ip` (default), `header:<Name>`
   * (e.g. `header:X-Session-Id`) or `body:user`.
   */
  readonly hashKey: string;
  /** Bounded-load factor for `consistent-hash-bounded` and `prefix-affinity` (default 1.25). */
  readonly loadFactor: number;
  /** KV-cache use above which `least-load` / `prefix-affinity` penalise an instance (default 0.9). */
  readonly kvSaturation: number;
  /** How `prefix-affinity` hashes prompts and how many hashes it remembers per instance. */
  readonly prefix: PrefixConfig;
}

/** Per-service timeouts in ms; 0 disables one. */
export interface TimeoutConfig {
  /** Budget for establishing the upstream connection (folded into the header wait, see README). */
  readonly connectMs: number;
  /** From sending the request until the response headers arrive. */
  readonly firstByteMs: number;
  /** Longest silence between two body chunks. */
  readonly idleMs: number;
  /** Whole exchange, body included. 0 = none (long streams). */
  readonly totalMs: number;
}

/** `fallback` block. */
export interface FallbackConfig {
  readonly enabled: boolean;
  readonly strategy: "default" | "cache";
  /** Entries kept by the `cache` strategy. */
  readonly cacheSize: number;
  /** How long a cached response may be served, ms. */
  readonly cacheTtlMs: number;
  /** Optional static body for `default`: returned with `status` instead of the 503 error. */
  readonly response?: { readonly status: number; readonly body: unknown };
}

/** Failover / retry policy. */
export interface RetryConfig {
  /** Attempts in all, first one included (1 = no failover). */
  readonly maxAttempts: number;
  /** Give up failing over once this much time has passed since the request arrived. */
  readonly budgetMs: number;
}

/** Active health checks (per service, and resolved again per instance). */
export interface HealthConfig {
  readonly enabled: boolean;
  /** Time between probe rounds (a service's instances are probed in one round). */
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** `http`: an HTTP request; `tcp`: a TCP connect to the base URL; `none`: no active probe. */
  readonly type: "http" | "tcp" | "none";
  /** Probe path joined to the base URL; absent = the adapter's own probe path. */
  readonly path?: string;
  /** Probe method; absent = the adapter's (GET). */
  readonly method?: ProbeMethod;
  /** HTTP statuses that count as up; absent = any answer below 500. */
  readonly expectStatus?: readonly StatusRange[];
  /** Consecutive probe successes that mark an unhealthy instance healthy. */
  readonly healthyThreshold: number;
  /** Consecutive probe failures that mark a healthy instance unhealthy. */
  readonly unhealthyThreshold: number;
  /** Consecutive live-traffic failures that eject an instance at once (passive check). */
  readonly passiveFailures: number;
}

/** One upstream instance (`model.services.<kind>.instances[i]`). */
export interface InstanceConfig {
  /** The model name clients ask for. */
  readonly name: string;
  /** Base URL without trailing slash. */
  readonly baseUrl: string;
  /** Overrides the adapter's default path for this service. */
  readonly path?: string;
  readonly weight: number;
  readonly adapter: AdapterName;
  readonly apiKey?: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Instance-level limiter (already merged with nothing: instance limits are their own). */
  readonly rateLimit?: RateLimitConfig;
  /** Disabled instances stay in the config but receive no traffic. */
  readonly enabled: boolean;
  /** The instance's `health-check`, resolved key by key: instance → service → global → default. */
  readonly health: HealthConfig;
  /** Where the instance's load report is (overrides the service's `load-signals.source`). */
  readonly loadSignals?: InstanceLoadSignalsConfig;
  /** Requests in flight at once at most (streams until they end); absent = no limit. */
  readonly maxConcurrency?: number;
  /** The model name the backend knows, sent upstream in place of `name` (absent: `name`). */
  readonly upstreamModel?: string;
  /** Client dialects forwarded to this instance untranslated (its backend speaks them). */
  readonly nativeDialects?: readonly DialectName[];
  /** Stable id: `<service>/<name>@<baseUrl><path>#<n>`, unique within the config. */
  readonly id: string;
  /** YAML line of the instance, for messages. */
  readonly line?: number;
}

/** One service (`model.services.<kind>`), with global defaults already applied. */
export interface ServiceConfig {
  readonly kind: ServiceKind;
  readonly loadBalance: LoadBalanceConfig;
  readonly adapter: AdapterName;
  /** Service-level limiter (the service block's own, else the global block's). */
  readonly rateLimit?: RateLimitConfig;
  readonly circuitBreaker: BreakerConfig;
  readonly fallback: FallbackConfig;
  readonly timeouts: TimeoutConfig;
  readonly retry: RetryConfig;
  readonly health: HealthConfig;
  /** Engine load scraping (`src/signals`). */
  readonly loadSignals: LoadSignalsConfig;
  /** The admission queue: where requests wait when no instance can take them. */
  readonly queue: QueueConfig;
  /** Cross-model fallback chains: the service's own, then the global ones for other models. */
  readonly fallbacks: readonly FallbackChain[];
  /** Latency outlier detection (`outlier-detection`). */
  readonly outlier: OutlierConfig;
  readonly instances: readonly InstanceConfig[];
}

/** `server` block (Spring's `server.port` lands here too). */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Largest accepted request body in bytes. */
  readonly bodyLimit: number;
  /** Longest gap between two pieces of a request body, ms (then 408). */
  readonly bodyIdleTimeoutMs: number;
  /** Longest time to receive a whole request body, ms (then 408). */
  readonly bodyTimeoutMs: number;
  /** Cap on the bytes of all request bodies being received at once (then 503 + Retry-After). */
  readonly maxPendingBodyBytes: number;
  /**
   * How often idle connections and connections that have not sent a whole request head are
   * closed, ms (0: never). Read at start.
   */
  readonly headerTimeoutMs: number;
  /** Open sockets and files above which idle and half-sent connections are shed (0: automatic). Read at start. */
  readonly maxConnections: number;
  /** Peers (IPs or CIDRs) whose `X-Forwarded-For` is believed. */
  readonly trustedProxies: readonly string[];
  /**
   * After SIGTERM: how long the listener keeps accepting (with `/readyz` at 503) so load balancers
   * can take the instance out before connections are refused, ms.
   */
  readonly drainDelayMs: number;
  /** After the drain delay: how long in-flight requests may take before they are cut, ms. */
  readonly shutdownTimeoutMs: number;
  /** Gateway isolates sharing the port (`server.workers`; `auto` is resolved by `main.ts`). */
  readonly workers: number | "auto";
  /**
   * With `workers` > 1: a worker that answers none of the supervisor's heartbeats for this long (its
   * event loop blocked, or the worker gone without a word) is ended and replaced, ms (0: never).
   */
  readonly workerStallTimeoutMs: number;
}

/** `log` block. */
export interface LogConfig {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly format: "json" | "pretty";
  /** Bytes of log lines that may wait for a slow stdout; past it, lines are dropped and counted. */
  readonly maxPendingBytes: number;
}

/** `state` block: where breaker and limiter state is kept. */
export interface StateConfig {
  readonly backend: "memory" | "kv" | "redis";
  /** Deno KV file path (always explicit; required for `kv`). */
  readonly path?: string;
  /** How often state is written to the store, ms. */
  readonly flushIntervalMs: number;
  /** Redis connection URL (`redis://` or `rediss://`; required for `redis`). */
  readonly url?: string;
  /** Prefix of every Redis key and channel, so several gateways can share one Redis. */
  readonly keyPrefix: string;
  /** Deadline of every Redis call, ms. */
  readonly timeoutMs: number;
  /** While Redis is unreachable: `local` per-replica state (limits ÷ `replicas`), or `deny` with 503. */
  readonly onUnavailable: "local" | "deny";
  /** How many replicas share the Redis (divides limits while it is unreachable). */
  readonly replicas: number;
  /**
   * How often each replica (through Redis) and each worker (through the main thread) publishes
   * its per-instance in-flight counts and latency and reads the others', ms: what
   * least-connections and least-latency see of the rest of the cluster is at most about twice
   * this old.
   */
  readonly shareIntervalMs: number;
}

/**
 * One client API key (`auth.keys[i]`) as kept in memory: its SHA-256 digest, never the key itself,
 * so neither a heap dump nor the admin API's config view can reveal it.
 */
export interface ApiKeyConfig {
  /** Who the key belongs to: logs, metrics and messages name the key by this. */
  readonly name: string;
  /** Lower-case hex SHA-256 of the key's UTF-8 bytes (after `keySalt`, when there is one). */
  readonly keySha256: string;
  /** Hex salt hashed before the key: JAiRouter's `key-hash` is SHA-256(salt + key). */
  readonly keySalt?: string;
  /** When the key stops being accepted, ms since the epoch (`expires-at`); absent = never. */
  readonly expiresAt?: number;
  /** Model names this key may use; absent = every model. */
  readonly models?: readonly string[];
  /** Services this key may use (JAiRouter's `permissions`); absent = every service. */
  readonly services?: readonly ServiceKind[];
  /** Per-key limiter (scope `api-key`). */
  readonly rateLimit?: RateLimitConfig;
  /** Admission-queue priority of the key's requests, 0–9 (higher first); absent = 0. */
  readonly priority?: number;
}

/** `auth` block: client authentication. */
export interface AuthConfig {
  /** When false every client is let in and its `Authorization` is forwarded upstream. */
  readonly enabled: boolean;
  readonly keys: readonly ApiKeyConfig[];
  /**
   * Another header that carries the key (lower-case; `auth.header-name`, JAiRouter's
   * `api-key.header-name`), besides `Authorization: Bearer` and `X-API-Key`. Set with auth off
   * too: it is then a client credential kept from instances that have their own.
   */
  readonly header?: string;
}

/** `admin` block: the admin API. */
export interface AdminConfig {
  readonly enabled: boolean;
  /** Lower-case hex SHA-256 of the admin token; set whenever `enabled` is. */
  readonly tokenSha256?: string;
  /** Where the admin routes live, without trailing slash (default `/admin`). */
  readonly pathPrefix: string;
  /** A separate listener for the admin API (read at start only); absent = on the main port. */
  readonly listen?: { readonly host: string; readonly port: number };
}

/** `console` block: the live operator console (`src/console/`). */
export interface ConsoleConfig {
  /** Off unless written `true` (read at start, like `admin.listen`). */
  readonly enabled: boolean;
  /** Where the console lives, without trailing slash (default `/ui`). */
  readonly path: string;
  /** Read-only views without the admin token (actions always need it). */
  readonly publicRead: boolean;
}

/** The whole validated configuration. */
export interface Config {
  /** The file it came from (for messages and write-back). */
  readonly source: string;
  readonly server: ServerConfig;
  readonly log: LogConfig;
  readonly state: StateConfig;
  /** Global limiter (`model.rate-limit`), consulted for every request. */
  readonly globalRateLimit?: RateLimitConfig;
  /** Every service kind present, with defaults applied. Absent kinds have no instances. */
  readonly services: Readonly<Record<ServiceKind, ServiceConfig>>;
  /** Client API keys. */
  readonly auth: AuthConfig;
  /** The admin API. */
  readonly admin: AdminConfig;
  /** The operator console. */
  readonly console: ConsoleConfig;
  /** The model catalogue: aliases and patterns (`model.aliases`). */
  readonly catalogue: CatalogueConfig;
}

/**
 * What a warning is about, for programs (the admin API) that must not read its wording: YAML
 * the parser let pass, a key the loader ignored, a duplicate instance, a key's model that no
 * instance serves, a note on how JAiRouter's security section was mapped or on a block JAiRouter
 * would leave off (`implicit_enabled.ts`), an optional import skipped, base-url credentials that
 * another credential of the instance overrides.
 */
export type WarningKind =
  | "yaml"
  | "unknown-key"
  | "duplicate-instance"
  | "unserved-model"
  | "jairouter"
  | "import"
  | "credentials"
  | "no-key";

/** A non-fatal finding of the loader (ignored Spring keys, unknown keys, duplicates). */
export interface ConfigWarning {
  readonly kind: WarningKind;
  readonly message: string;
  readonly path: string;
  readonly line?: number;
  /** The imported file it is in (`spring.config.import`); absent for the file that was loaded. */
  readonly file?: string;
}
