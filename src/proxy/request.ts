/**
 * The types the request path shares, and nothing else but one marker value ({@linkcode DEFERRED}):
 * the parsed request handed to `dispatch` (by the HTTP layer, for OpenAI endpoints and client
 * dialects alike), the handles dispatch runs with, and how one upstream attempt ends. Every module
 * of `src/proxy/` may import this file; its own imports are type-only and reach no module that
 * imports it, so no import cycle runs through it (`import_graph_test.ts`).
 *
 * @module
 */

import type { ApiKeyConfig } from "../config/types.ts";
import type { DialectName, NativeEndpoint } from "../dialects/types.ts";
import type { HeaderList } from "../header_list.ts";
import type { AccessRecord, Clock, Decision, JsonBody, LimitScope, RawBody, ServiceKind } from "../types.ts";
import type { DeadlineSweep } from "./deadlines.ts";
import type { Runtime, ServiceRuntime, Upstream } from "./runtime_types.ts";
import type { Reply } from "./reply.ts";

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
  /** Set when the client spoke another dialect (Anthropic, Responses, Ollama): how to answer it. */
  readonly dialect?: DialectCall;
}

/**
 * A request that arrived in a client dialect and was translated to the OpenAI body it carries.
 * Each attempt either forwards the client's own bytes (an instance whose backend speaks the
 * dialect, `native-dialects`) or sends the translation and turns the answer back.
 */
export interface DialectCall {
  /** The dialect (the `dialect` label of metrics and logs). */
  readonly name: DialectName;
  /** The path the client called (`/v1/messages`), for the access log. */
  readonly route: string;
  /** The client's body as it came. */
  readonly original: Uint8Array;
  /** The backend path of this endpoint by adapter name, for backends that serve it natively. */
  readonly native: Readonly<Record<string, NativeEndpoint>>;
  /** The rewrite of a translated answer, whose `model` is `model` (the model that answered). */
  translated(model: string): Reply;
  /** An OpenAI answer (a configured `default` fallback) in the dialect's shape. */
  answer(openai: unknown, model: string): unknown;
}

/** How a wait in the queue ended (`dairouter_queue_wait_seconds{outcome}`). */
export type QueueOutcome = "served" | "timeout" | "abort" | "gone" | "rejected";

/** Where the dispatcher reports what happened (metrics and logs implement it). */
export interface DispatchObserver {
  access(rec: AccessRecord): void;
  /** A further attempt of a request starts after `u`, the instance of the one before, failed. */
  retry(u: Upstream): void;
  fallback(service: ServiceKind, model: string, strategy: string): void;
  rateLimited(scope: LimitScope, service: ServiceKind): void;
  upstreamError(u: Upstream, kind: string): void;
  /**
   * An attempt failed before anything reached the client (the request fails over or gives up), so
   * no access record names its instance. Every kind but `abort` and `shutdown`.
   */
  attemptFailed?(u: Upstream, kind: FailureKind): void;
  /** A request left the admission queue after `waitedMs` (`rejected`: it found the queue full). */
  queueLeft?(service: ServiceKind, outcome: QueueOutcome, waitedMs: number): void;
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
  /**
   * The routing table in force now. An attempt keeps the instance it started on; every pick is
   * made in the live table — a request waiting in an admission queue (a reload may add room: a
   * higher `max-concurrency`, another instance), a retry (a reload may lower a limit).
   */
  readonly live?: () => Runtime;
}

/**
 * Why a request may not go on, as a value (`access.ts` turns it into the one HTTP error):
 * no valid key (401), a key not allowed this service or this model (403), a model nobody serves
 * (404), or a limiter of `scope` that said no (429).
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
 * request (for its `X-RateLimit-*` headers), or `undefined` when no scope limits it. An allowing
 * answer is handed back to {@linkcode ScopeDecider.correct} once the request has ended, so a
 * decider that counted tokens may return its own `Decision` object carrying what it needs to
 * correct them (which limiters, which keys).
 */
export type Admission = Decision | Denial | undefined;

/**
 * What {@linkcode ScopeDecider.decide} answers when it decides the request-level scopes together
 * with the first instance picked (one round trip for both, see {@linkcode ScopeDecider.decideWith}):
 * the request then picks first and is admitted (or denied) with its first instance.
 */
export const DEFERRED: unique symbol = Symbol("limits decided with the first instance");

/** The request-level answer and the first picked instance's own, from one call. */
export interface AdmissionWith {
  readonly admission: Admission;
  /**
   * The instance's answer, as {@linkcode ScopeDecider.instance} gives it: a denial, an allowing
   * grant to correct, or `undefined` (admitted, no limit, or not asked).
   */
  readonly instance: Decision | undefined;
}

/**
 * Decides every request-level limit scope of one request in one call: api-key, global, service,
 * client IP, in that order, stopping at the first denial. The in-process implementation
 * (`localLimits` in `access.ts`) asks the runtime's limiters one after the other; a cluster
 * backend implements the same calls with one round trip each (one script call for all scopes),
 * which is why it may answer with a promise.
 *
 * **Cost per check.** A scope whose `rate-limit` has `unit: tokens` takes `tokens` (the request's
 * estimated prompt + output tokens, `token_estimate.ts`); every other scope takes 1. A denial
 * takes nothing anywhere: tokens an earlier scope took are given back before answering.
 *
 * **Correction.** Once the request has ended, the gateway calls {@linkcode ScopeDecider.correct}
 * exactly once with the allowing admission `decide` returned and `deltaTokens`: actual − estimated
 * from the reported `usage` (positive: take more, into debt when needed; negative: give back), or
 * −estimated when no answer came from any instance (a refund), or 0 (nothing reported: the
 * estimate stands — the call is then skipped). Only scopes that counted tokens change; a decider
 * without token limits may leave `correct` out. Errors (a rejected promise) are ignored, never
 * surfaced to the client (a backend that fails logs its own errors).
 */
export interface ScopeDecider {
  decide(
    rt: Runtime,
    svc: ServiceRuntime,
    req: GatewayRequest,
    tokens: number,
  ): Admission | typeof DEFERRED | Promise<Admission>;
  /**
   * Decides the limit of an instance the strategy picked, when it has one (`u.limiter`): its
   * denying decision, or — letting the attempt through (taking 1, or `tokens` for a token limit)
   * — `undefined` when what it took is corrected in `u`'s own limiter, or an allowing decision
   * to hand to {@linkcode ScopeDecider.correct} for the attempt's token correction (a cluster
   * backend's charge). Absent: the instance's in-process limiter (`instanceDenial` of
   * `access.ts`). A cluster backend answers with a promise (a round trip, for instances with a
   * limit of their own).
   */
  instance?(u: Upstream, tokens: number): Decision | undefined | Promise<Decision | undefined>;
  /**
   * Required when `decide` may answer {@linkcode DEFERRED}: the request-level scopes and the
   * own limit of `u` (the first instance picked, `undefined` when none could be) in one call —
   * `u`'s limit is taken only once the request-level scopes admitted the request.
   */
  decideWith?(
    rt: Runtime,
    svc: ServiceRuntime,
    req: GatewayRequest,
    u: Upstream | undefined,
    tokens: number,
  ): AdmissionWith | Promise<AdmissionWith>;
  /** The token correction of an allowing admission (see the interface's documentation). */
  correct?(admission: Decision, deltaTokens: number): void | Promise<void>;
}

/**
 * Serves one parsed request: `dispatch` itself, or a wrapper around it (a cache, a
 * shadow). Client dialects are no wrapper: their request carries a {@linkcode DialectCall}, since
 * whether an answer is translated is decided per attempt (an instance may speak the dialect
 * natively) and a stream is translated inside the attempt's relay, chunk by chunk; their route
 * shapes every error.
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
