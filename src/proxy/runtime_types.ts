/**
 * The shapes of the live routing table (see `runtime.ts`, which builds it): an upstream instance
 * as the request path sees it, a model's pool, a service and its catalogue of names
 * (`catalogue.ts` builds it), the runtime, and the state that outlives one runtime across reloads.
 * Its imports from `src/proxy/` are type-only and reach no module that imports it back: the
 * proxy's modules import each other without a cycle, types included.
 *
 * @module
 */

import type { CircuitBreaker } from "../breaker/mod.ts";
import type { Config, InstanceConfig, ServiceConfig } from "../config/types.ts";
import type { HealthState } from "../health/mod.ts";
import type { FirstByteTimes, OutlierDetector } from "../health/outlier.ts";
import type { KeyedLimiter } from "../limiter/mod.ts";
import type {
  Adapter,
  BreakerState,
  Endpoint,
  InstanceTarget,
  ServiceKind,
  Strategy,
  UpstreamStats,
} from "../types.ts";
import type { DialectName } from "../dialects/types.ts";
import type { AdmissionQueue, Gate, QueueBudget } from "./admission_queue.ts";
import type { FallbackCache } from "./fallback_cache.ts";
import type { Reply } from "./reply.ts";
import type { WaitCount, WaitingList } from "./waiting.ts";

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

/** Where a requested name goes within one service. */
export interface ModelRoute {
  /** The model that serves it (its public name is `pool.name`). */
  readonly pool: ModelPool;
  /** Models to try, in order, when no instance of `pool` can take the request. */
  readonly fallbacks: readonly ModelPool[];
}

/** One compiled `*` pattern. */
export interface PatternRoute {
  /** The literal pieces between the stars. */
  readonly parts: readonly string[];
  readonly route: ModelRoute;
}

/** A service's names → routes. */
export interface ServiceCatalogue {
  /** Models and exact aliases. */
  readonly routes: ReadonlyMap<string, ModelRoute>;
  /** Patterns, most specific first. */
  readonly patterns: readonly PatternRoute[];
}
