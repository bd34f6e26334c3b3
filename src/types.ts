/**
 * Shared domain types of DAiRouter. Types and constants only — no logic lives here, so every
 * module can depend on this file without pulling in behaviour.
 *
 * @module
 */

import type { HeaderList } from "./header_list.ts";

/** The seven services of JAiRouter, keyed as its `model.services` section names them. */
export type ServiceKind = "chat" | "embedding" | "rerank" | "tts" | "stt" | "imgGen" | "imgEdit";

/** Every service kind, in the order the seed lists them. */
export const SERVICE_KINDS: readonly ServiceKind[] = [
  "chat",
  "embedding",
  "rerank",
  "tts",
  "stt",
  "imgGen",
  "imgEdit",
];

/** Milliseconds since the epoch. Injected so that tests control time. */
export type Clock = () => number;

/** A uniform random number in [0, 1). Injected so that tests are deterministic. */
export type Random = () => number;

/**
 * Runs `fn` once after `ms` and returns a function that cancels it if it has not run yet. Injected
 * (default: an unref'd `setTimeout`) so that tests drive timers instead of sleeping.
 */
export type Schedule = (fn: () => void, ms: number) => () => void;

// ---------------------------------------------------------------------------------------------
// Load balancing
// ---------------------------------------------------------------------------------------------

/** Names accepted by `load-balance.type`: the seed's four, then ours. */
export const STRATEGY_NAMES = [
  "random",
  "round-robin",
  "least-connections",
  "ip-hash",
  "power-of-two",
  "least-latency",
  "consistent-hash-bounded",
  "least-load",
  "prefix-affinity",
] as const;

/** A `load-balance.type`. */
export type StrategyName = typeof STRATEGY_NAMES[number];

/** Hash functions accepted by `load-balance.hash-algorithm`; `fnv1a` is the fast default. */
export const HASH_ALGORITHMS = ["fnv1a", "md5", "sha1", "sha256"] as const;

/** A `load-balance.hash-algorithm`. */
export type HashAlgorithm = typeof HASH_ALGORITHMS[number];

/** Live, mutable counters of one upstream instance, shared with the strategies that read them. */
export interface UpstreamStats {
  /** Requests sent upstream whose response body has not yet ended, errored or been aborted. */
  inFlight: number;
  /** Exponentially weighted latency in ms (time to first byte for streams); 0 = no sample yet. */
  latencyEwmaMs: number;
  /** Exponentially weighted error ratio in [0, 1]. */
  errorEwma: number;
  /** The engine's own load report (`src/signals`), when its load source is scraped. */
  engine?: EngineSignal;
  /**
   * What the other workers and replicas reported of this instance at the last exchange
   * (`state.share-interval`); absent when this process is alone or the exchange failed.
   */
  peers?: PeerLoad;
}

/** The rest of the cluster's view of one instance, as least-connections and least-latency use it. */
export interface PeerLoad {
  /** Their requests in flight to it, summed. */
  readonly inFlight: number;
  /** Mean of the latency EWMAs of those that have a sample (ms). */
  readonly latencyEwmaMs: number;
  /** Mean of the error EWMAs of the same ones. */
  readonly errorEwma: number;
  /** How many of them have a latency sample (0: the two means say nothing). */
  readonly sampled: number;
}

/**
 * An engine's load as a strategy may trust it: fresh, and corrected by what the gateway sent and
 * finished since the reading. Every field is optional: an engine reports what it knows.
 */
export interface EngineLoad {
  /** Requests queued in the engine, not yet scheduled. */
  readonly waiting?: number;
  /** Requests the engine is running (in its batch). */
  readonly running?: number;
  /** KV-cache use in [0, 1]. */
  readonly kvUsage?: number;
  /** Whether the instance's model is loaded in memory (Ollama); absent = unknown. */
  readonly resident?: boolean;
  /**
   * The largest batch the engine was seen running while requests queued behind it (its batch is
   * full at that size); absent until the engine has been seen with a queue.
   */
  readonly batch?: number;
}

/** What the status page and metrics show of an engine signal. */
export interface EngineSignalStatus {
  /** The engine's queue as last reported (not corrected). */
  readonly waiting?: number;
  readonly running?: number;
  readonly kvUsage?: number;
  /** Models the engine reported loaded (Ollama). */
  readonly models?: readonly string[];
  /** Seconds since the last good reading; absent when there never was one. */
  readonly ageSeconds?: number;
  /** The reading is fresh enough to route on. */
  readonly trusted: boolean;
  /** Why the last scrape failed, when it did. */
  readonly error?: string;
}

/** The live engine signal of one instance, kept up to date by the load-signal scraper. */
export interface EngineSignal {
  /** The trusted load now, corrected by `inFlight` (the instance's current in-flight count); `undefined` when missing or stale. */
  read(inFlight: number): EngineLoad | undefined;
  /** A view for status pages and metrics. */
  status(): EngineSignalStatus;
}

/** What a balancing strategy sees of an instance: identity, weight and live counters. */
export interface Endpoint {
  /** Stable, unique id of the instance (survives config reloads while the instance is unchanged). */
  readonly id: string;
  /** Relative weight; 0 means "never pick while another is available". */
  readonly weight: number;
  /** Live counters. */
  readonly stats: UpstreamStats;
}

/** Per-request input to a strategy. */
export interface PickContext<E extends Endpoint = Endpoint> {
  /** Affinity key for hashing strategies (client IP, a header value or the body's `user`). */
  readonly key?: string;
  /** Which members may be chosen now (healthy, breaker admits, not yet tried). Absent = all. */
  readonly eligible?: (endpoint: E) => boolean;
  /**
   * The engine load of a member, already judged fresh and corrected (`engineLoadOf` from
   * `src/signals`); `undefined` = unknown. Load-aware strategies fall back to `stats.inFlight`.
   */
  readonly load?: (endpoint: E) => EngineLoad | undefined;
  /** Chained hashes of the request's prompt blocks (`hashPrompt` in `src/balancer/prompt_hash.ts`). */
  readonly promptHashes?: ArrayLike<number>;
}

/** A balancing strategy over a fixed member list. It only chooses: no HTTP, clocks or I/O. */
export interface Strategy<E extends Endpoint = Endpoint> {
  /** Picks exactly one eligible member, or `undefined` when none is eligible. */
  pick(ctx: PickContext<E>): E | undefined;
}

/** Options every strategy factory accepts. */
export interface StrategyOptions {
  /** Randomness source. */
  readonly random: Random;
  /** Hash used by hashing strategies. */
  readonly hashAlgorithm: HashAlgorithm;
  /** Bounded-load factor c for `consistent-hash-bounded` (an instance may take c × average). */
  readonly loadFactor: number;
  /** KV-cache use above which `least-load` and `prefix-affinity` penalise an instance. @default {0.9} */
  readonly kvSaturation?: number;
  /** Block-chain hashes `prefix-affinity` remembers per instance. @default {8192} */
  readonly prefixCacheSize?: number;
}

// ---------------------------------------------------------------------------------------------
// Rate limiting
// ---------------------------------------------------------------------------------------------

/** Names accepted by `rate-limit.algorithm`. */
export const LIMIT_ALGORITHMS = ["token-bucket", "leaky-bucket", "sliding-window", "fixed-window"] as const;

/** A `rate-limit.algorithm`. */
export type LimitAlgorithm = typeof LIMIT_ALGORITHMS[number];

/** Values of `rate-limit.scope`: where a limiter applies. */
export const LIMIT_SCOPES = ["global", "service", "instance", "client-ip", "api-key"] as const;

/** A `rate-limit.scope`. */
export type LimitScope = typeof LIMIT_SCOPES[number];

/** The outcome of one limiter step: a value, never a throw. */
export interface Decision {
  readonly allowed: boolean;
  /** How long until a request of the same cost would be allowed (0 when allowed). */
  readonly retryAfterMs: number;
  /** The configured limit (capacity / requests per window). */
  readonly limit: number;
  /** What is left after this decision. */
  readonly remaining: number;
  /** Ms until the limiter is fully replenished / the window resets. */
  readonly resetMs: number;
}

/** Validated `rate-limit` block. */
export interface RateLimitConfig {
  readonly enabled: boolean;
  readonly algorithm: LimitAlgorithm;
  /** Burst size (token/leaky bucket) or requests per window (windows). */
  readonly capacity: number;
  /** Refill / leak rate per second (buckets). */
  readonly rate: number;
  /** Window length for the window algorithms. */
  readonly windowMs: number;
  /** The seed's `scope` key; informational — the level where the block is written decides. */
  readonly scope: LimitScope;
  /** Also limit each client IP with the same algorithm and numbers. */
  readonly clientIpEnable: boolean;
  /** Ramp from `warmUp.initialFraction` of the rate to full over `warmUp.periodMs`. */
  readonly warmUp?: { readonly periodMs: number; readonly initialFraction: number };
  /** Cap on keyed limiters kept in memory (per-client maps); idle ones are evicted first. */
  readonly maxKeys: number;
  /**
   * What one unit of `capacity` and `rate` is: a request (absent, the default), or a model token — a request
   * then reserves its estimated tokens, corrected from the reported `usage` once it ends.
   */
  readonly unit?: "requests" | "tokens";
}

// ---------------------------------------------------------------------------------------------
// Circuit breaking
// ---------------------------------------------------------------------------------------------

/** Circuit breaker states (Envoy / Hystrix vocabulary). */
export type BreakerState = "closed" | "open" | "half_open";

/** Validated `circuit-breaker` block. */
export interface BreakerConfig {
  readonly enabled: boolean;
  /** Consecutive failures that open the breaker. */
  readonly failureThreshold: number;
  /** How long the breaker stays open before admitting trials (the seed's `timeout`, ms). */
  readonly timeoutMs: number;
  /** Consecutive successes in half-open that close it again. */
  readonly successThreshold: number;
  /** Trial requests admitted concurrently while half-open. */
  readonly halfOpenMaxCalls: number;
}

// ---------------------------------------------------------------------------------------------
// Adapters
// ---------------------------------------------------------------------------------------------

/** Names accepted by `adapter` (`normal` is the seed's alias of `openai`). */
export const ADAPTER_NAMES = [
  "openai",
  "normal",
  "gpustack",
  "ollama",
  "vllm",
  "xinference",
  "localai",
  "llamacpp",
  "tei",
  "triton",
  "infinity",
] as const;

/** An `adapter`. */
export type AdapterName = typeof ADAPTER_NAMES[number];

/** Where and how to reach one upstream instance. */
export interface InstanceTarget {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:11434`. */
  readonly baseUrl: string;
  /** The instance's configured `path`; when set it overrides the adapter's default path. */
  readonly path?: string;
  /** Secret sent upstream (usually as `Authorization: Bearer …`). */
  readonly apiKey?: string;
  /** Extra headers to send upstream. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The header clients may send their gateway key in besides `Authorization` and `X-API-Key`
   * (`auth.header-name`, lower-case): kept from an instance that has a credential of its own.
   */
  readonly clientKeyHeader?: string;
}

/** A JSON request body: the original bytes and the parsed object. */
export interface JsonBody {
  readonly kind: "json";
  readonly bytes: Uint8Array;
  readonly value: Record<string, unknown>;
}

/** A body forwarded as bytes (multipart uploads). */
export interface RawBody {
  readonly kind: "raw";
  readonly bytes: Uint8Array;
  readonly contentType: string;
}

/** Everything an adapter needs to build the upstream request. */
export interface AdapterInput {
  readonly service: ServiceKind;
  /** The OpenAI path the client called, e.g. `/v1/completions`. */
  readonly route: string;
  readonly target: InstanceTarget;
  readonly body: JsonBody | RawBody;
  /** Client asked for a stream (`stream: true`). */
  readonly stream: boolean;
  /** Client headers already stripped of hop-by-hop and gateway-only headers (never mutated). */
  readonly headers: HeaderList;
}

/** Maps a complete upstream JSON body to the OpenAI shape. */
export type JsonMapper = (upstream: unknown) => unknown;

/** Creates a fresh transform from the upstream stream to OpenAI SSE (one per response). */
export type StreamMapper = () => TransformStream<Uint8Array, Uint8Array>;

/** The request an adapter wants sent, and how to read the answer. */
export interface UpstreamCall {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly headers: HeaderList;
  /** The original bytes when nothing had to change. */
  readonly body: BodyInit | null;
  /** Present when a successful JSON response must be rewritten; absent = bytes pass through. */
  readonly mapJson?: JsonMapper;
  /** Present when a successful streamed response must be rewritten; absent = bytes pass through. */
  readonly mapStream?: StreamMapper;
  /** Content type to announce to the client when `mapStream` rewrites the stream. */
  readonly streamContentType?: string;
}

/** HTTP methods a health probe may use (`health-check.method`). */
export type ProbeMethod = "GET" | "HEAD" | "POST" | "OPTIONS";

/** A cheap request that tells whether a backend is up, without spending tokens. */
export interface ProbeRequest {
  readonly url: string;
  readonly method: ProbeMethod;
  readonly headers: Headers;
  readonly body?: string;
}

/** Engines whose load reports `src/signals` can read (`load-signals.source`). */
export const LOAD_SOURCES = ["vllm", "sglang", "tgi", "llamacpp", "triton", "tei", "ollama"] as const;

/** A `load-signals.source`. */
export type LoadSourceKind = typeof LOAD_SOURCES[number];

/** Where a backend reports its load (`GET`, no body) and which parser reads it. */
export interface LoadSource {
  /** Path on the instance's base URL, e.g. `/metrics`. */
  readonly path: string;
  readonly parser: LoadSourceKind;
}

/** Where a `type: tcp` health probe connects (the host and port of the instance's base URL). */
export interface TcpAddress {
  readonly hostname: string;
  readonly port: number;
}

/** HTTP statuses from `lo` to `hi`, both included (`health-check.expect-status`). */
export type StatusRange = readonly [lo: number, hi: number];

/** One backend dialect. Adapters only translate; they never route. */
export interface Adapter {
  readonly name: AdapterName;
  /**
   * The backend's chat accepts `stream_options.include_usage` (OpenAI API reference): the gateway
   * then asks for usage on a stream the client did not ask it for, counts it, and hides it again.
   * Absent or false: the body is forwarded as sent.
   */
  readonly acceptsStreamOptions?: boolean;
  /** The backend's load report, when it has one (a capability: absent = none). */
  readonly loadSource?: LoadSource;
  /** Builds the upstream request. Throws `BadRequestError` for what the backend cannot do. */
  prepare(input: AdapterInput): UpstreamCall;
  /** The health probe for an instance of the given service. */
  probe(service: ServiceKind, target: InstanceTarget): ProbeRequest;
}

// ---------------------------------------------------------------------------------------------
// Observation
// ---------------------------------------------------------------------------------------------

/** One finished request, as logged and counted. */
export interface AccessRecord {
  readonly requestId: string;
  readonly traceId?: string;
  readonly clientIp: string;
  readonly method: string;
  readonly route: string;
  readonly service?: ServiceKind;
  /** The model that answered (or was asked for): a configured name, never the client's alias. */
  readonly model?: string;
  /** The client dialect of the request (`anthropic`, `responses`, `ollama`); absent: OpenAI. */
  readonly dialect?: string;
  /** Id of the instance that produced the response (last attempt). */
  readonly instance?: string;
  readonly status: number;
  readonly durationMs: number;
  /** Time to first byte of the upstream body (streams: time to first token). */
  readonly ttftMs?: number;
  readonly stream: boolean;
  readonly tokensIn?: number;
  readonly tokensOut?: number;
  readonly retries: number;
  /** Set when the request ended by a fallback (`default` or `cache`). */
  readonly fallback?: string;
  /** Short error code when status >= 400, or `client_abort`. */
  readonly error?: string;
}
