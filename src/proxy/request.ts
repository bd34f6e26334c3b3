/**
 * The types the request path shares, and nothing else: the parsed request handed to
 * {@linkcode dispatch} (by the HTTP layer today, by a client dialect tomorrow), the handles
 * dispatch runs with, and how one upstream attempt ends. Every module of `src/proxy/` may import
 * this file; it imports no behaviour, so no import cycle can run through it.
 *
 * @module
 */

import type { ApiKeyConfig } from "../config/types.ts";
import type { HeaderList } from "../header_list.ts";
import type { AccessRecord, Clock, Decision, JsonBody, LimitScope, RawBody, ServiceKind } from "../types.ts";
import type { DeadlineSweep } from "./deadlines.ts";
import type { Runtime, ServiceRuntime, Upstream } from "./runtime.ts";

/** A request the HTTP layer has parsed and validated (OpenAI-shaped body). */
export interface GatewayRequest {
  readonly service: ServiceKind;
  /** The OpenAI path the client called, e.g. `/v1/chat/completions`. */
  readonly route: string;
  readonly method: string;
  readonly model: string;
  readonly stream: boolean;
  readonly body: JsonBody | RawBody;
  readonly clientIp: string;
  readonly requestId: string;
  readonly traceId?: string;
  /** The key the client authenticated with (`undefined` when `auth` is off). */
  readonly apiKey?: ApiKeyConfig;
  /** The client's own headers (for `hash-key: header:…`). */
  readonly clientHeaders: Headers;
  /** Headers to forward upstream (already filtered; adapters copy, never mutate, them). */
  readonly forwardHeaders: HeaderList;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
  /** When the request arrived (clock ms). */
  readonly receivedAt: number;
}

/** Where the dispatcher reports what happened (metrics and logs implement it). */
export interface DispatchObserver {
  access(rec: AccessRecord): void;
  retry(u: Upstream): void;
  fallback(service: ServiceKind, model: string, strategy: string): void;
  rateLimited(scope: LimitScope, service: ServiceKind): void;
  upstreamError(u: Upstream, kind: string): void;
  /**
   * An attempt failed before anything reached the client (the request fails over or gives up), so
   * no access record names its instance. Every kind but `abort` and `shutdown`.
   */
  attemptFailed?(u: Upstream, kind: FailureKind): void;
}

/** Dependencies injected by the composition root. */
export interface DispatchDeps {
  readonly fetch: typeof fetch;
  readonly clock: Clock;
  /** Watches every attempt's timeouts (one timer for all). */
  readonly deadlines: DeadlineSweep;
  /** Aborts (with a `ShuttingDownError`) when the gateway cuts what is left at its shutdown deadline. */
  readonly shutdown?: AbortSignal;
  readonly observer: DispatchObserver;
  /**
   * Decides the request-level limit scopes (default: the in-process limiters of the runtime,
   * `localLimits` of `access.ts`). The seam for cluster-wide limits: a Redis backend answers
   * every scope of a request in one round trip.
   */
  readonly limits?: ScopeDecider;
}

/**
 * Why a request may not go on, as a value (`access.ts` turns it into the one HTTP error):
 * no valid key (401), a key not allowed this model (403), a model nobody serves (404), or a
 * limiter of `scope` that said no (429).
 */
export type Denial =
  | { readonly allowed: false; readonly reason: "unauthenticated" | "service-forbidden" | "model-forbidden" }
  | { readonly allowed: false; readonly reason: "unknown-model"; readonly available: readonly string[] }
  | {
    readonly allowed: false;
    readonly reason: "rate-limited";
    readonly scope: LimitScope;
    readonly decision: Decision;
  };

/**
 * The answer of the request-level limits: a denial, or the tightest decision that allowed the
 * request (for its `X-RateLimit-*` headers), or `undefined` when no scope limits it.
 */
export type Admission = Decision | Denial | undefined;

/**
 * Decides every request-level limit scope of one request in one call: api-key, global, service,
 * client IP, in that order, stopping at the first denial. The in-process implementation
 * (`localLimits` in `access.ts`) asks the runtime's limiters one after the other; a cluster
 * backend implements the same call with one round trip (one script call for all scopes), which
 * is why it may answer with a promise.
 */
export interface ScopeDecider {
  decide(rt: Runtime, svc: ServiceRuntime, req: GatewayRequest): Admission | Promise<Admission>;
}

/**
 * Serves one parsed request: {@linkcode dispatch} itself, or a wrapper around it. A client
 * dialect (Anthropic, Responses, Ollama) is such a wrapper: it translates its request into a
 * {@linkcode GatewayRequest}, calls the handler it wraps, and translates the `Response` (JSON or
 * stream) and any thrown `GatewayError` back into its own shape.
 */
export type RequestHandler = (rt: Runtime, deps: DispatchDeps, req: GatewayRequest) => Promise<Response>;

/**
 * Why an attempt failed (`shutdown`: cut by the gateway at its shutdown deadline; `ejected`: its
 * instance was ejected before the first byte — retryable, not counted against the instance).
 */
export type FailureKind = "connect" | "timeout" | "status" | "body" | "abort" | "shutdown" | "ejected";

/** How an attempt ended, reported exactly once (an `Attempt` holds its own). */
export interface Settlement {
  /** `ignored`: an answer that says nothing about the instance's health (4xx). */
  readonly outcome: "success" | "failure" | "ignored" | "abort";
  readonly kind?: FailureKind;
  readonly status?: number;
  /** Upstream time to first body byte (ms), when one arrived. */
  readonly ttfbMs?: number;
  /** The last chunks of the body, for usage accounting. */
  readonly tail: readonly Uint8Array[];
  /** Upstream `Retry-After` in ms, when it sent one with a 429/503. */
  readonly retryAfterMs?: number;
}

/** A failure before commit: nothing reached the client, so another instance may be tried. */
export interface AttemptFailure {
  readonly type: "failed";
  readonly kind: FailureKind;
  readonly message: string;
  readonly status?: number;
  /** Upstream `Retry-After` in ms (429/503). */
  readonly retryAfterMs?: number;
}
