/**
 * One client request across its attempts: how many it took, what each answer does to the
 * request (commit, retry, the token correction), and its one access-log line. Which instance each
 * attempt goes to is {@linkcode Picking}'s part. `dispatch` drives it; each upstream try is an
 * {@linkcode Attempt} it owns.
 *
 * @module
 */

import type { GatewayError } from "../errors.ts";
import type { HeaderList } from "../header_list.ts";
import { denialError, localLimits, setRateLimitHeaders } from "./access.ts";
import { Attempt, type AttemptOwner } from "./attempt.ts";
import { release } from "./outcome.ts";
import { Picking } from "./picking.ts";
import {
  type AttemptFailure,
  DEFERRED,
  type Denial,
  type DialectCall,
  type DispatchDeps,
  type GatewayRequest,
} from "./request.ts";
import type { Runtime, ServiceRuntime, Upstream } from "./runtime_types.ts";
import { prepareCall, type PreparedCall, UpstreamBodies } from "./upstream_call.ts";
import { correctAdmission, tokenDelta } from "./token_charge.ts";

/** What a request's access-log line says of it: all an open stream keeps of its request. */
type RequestFacts =
  & Pick<
    GatewayRequest,
    "service" | "route" | "method" | "stream" | "clientIp" | "requestId" | "traceId" | "receivedAt"
  >
  & { readonly dialect?: Pick<DialectCall, "name" | "route"> };

/** The {@linkcode RequestFacts} of `req`, copied out so that `req` itself can be let go. */
function requestFacts(req: GatewayRequest): RequestFacts {
  const { service, route, method, stream, clientIp, requestId, traceId, receivedAt, dialect } = req;
  return {
    service,
    route,
    method,
    stream,
    clientIp,
    requestId,
    traceId,
    receivedAt,
    dialect: dialect && { name: dialect.name, route: dialect.route },
  };
}

/** The state of one request on its way through the instances of its model. */
export class Exchange extends Picking implements AttemptOwner {
  readonly timeouts: ServiceRuntime["config"]["timeouts"];
  readonly signal: AbortSignal;
  readonly shutdown: AbortSignal | undefined;
  /** Attempts started (upstream calls); those after the first are retries. */
  attempts = 0;
  /** Attempts given up because their instance was ejected before a byte came (see `mayRetry`). */
  ejected = 0;
  /** Why the last attempt failed, for the error when nothing is left. */
  lastFailure: AttemptFailure | undefined;
  /** The instance of the last attempt started (a retry is counted against it). */
  #last: Upstream | undefined;
  /** The request's bodies as its instances need them (model renamed, usage asked for). */
  #bodies: UpstreamBodies | undefined;
  #req: GatewayRequest | undefined;
  /** What the access-log line says of the request: the request itself, until it is let go. */
  #facts: RequestFacts;

  constructor(rt: Runtime, deps: DispatchDeps, svc: ServiceRuntime, req: GatewayRequest) {
    super(rt, deps, svc, req.model);
    this.#req = this.#facts = req;
    this.timeouts = svc.config.timeouts;
    this.signal = req.signal;
    this.shutdown = deps.shutdown;
    this.#bodies = new UpstreamBodies(req);
  }

  /** The request, until a stream is committed (see {@linkcode Exchange.commit}). */
  get req(): GatewayRequest {
    if (this.#req === undefined) throw new Error("the request was let go when its stream was committed");
    return this.#req;
  }

  /**
   * Starts an attempt on `u`: the call is prepared (the adapter's translation, or the client's
   * own bytes for a backend that speaks its dialect), `u`'s in-flight count goes up (unless its
   * pick in a gated pool, or the queue, already reserved it).
   */
  start(u: Upstream): Attempt {
    const reserved = this.takeReserved(u);
    const grant = this.takeGrant();
    let prepared: PreparedCall;
    try {
      prepared = prepareCall(this.req, this.#bodies!, u);
    } catch (error) {
      u.breaker.onIgnored();
      if (reserved) release(u);
      if (this.tokens !== undefined) this.correctInstance(u, grant, -this.tokens);
      throw error;
    }
    if (this.attempts++ > 0) this.deps.observer.retry(this.#last!);
    this.#last = u;
    if (!reserved) u.stats.inFlight++;
    const attempt = new Attempt(this, u, prepared.call, prepared.stripUsage, prepared.reply);
    attempt.grant = grant;
    return attempt;
  }

  /** Whether `retry.max-attempts` and `retry.budget` allow another attempt. */
  withinBudget(): boolean {
    const retry = this.svc.config.retry;
    return this.attempts - this.ejected < retry.maxAttempts &&
      this.deps.clock() - this.req.receivedAt < retry.budgetMs;
  }

  /**
   * Records a failed attempt; whether `retry.max-attempts` and `retry.budget` allow another. An
   * attempt given up because its instance was ejected does not count against `max-attempts`: the
   * instance gave no verdict, the gateway gave up on it, and the request never returns to it, so
   * such failovers are bounded by the pool's size. The time budget still bounds them.
   */
  mayRetry(failure: AttemptFailure): boolean {
    this.lastFailure = failure;
    if (failure.kind === "ejected") this.ejected++;
    return this.withinBudget();
  }

  /**
   * The attempt's answer goes to the client. An answer still open (a stream) is never sent again,
   * so the request's bytes, parsed body and headers are let go then: an open stream keeps only its
   * log line's facts, not a long prompt for as long as its answer streams.
   */
  commit(attempt: Attempt): void {
    attempt.committed = true;
    if (this.substituted) this.deps.observer.fallback(this.req.service, this.route!.pool.name, "model");
    if (attempt.settled) return this.#logAttempt(attempt);
    this.#facts = requestFacts(this.req);
    this.#req = this.#bodies = undefined;
    this.donePicking();
  }

  /**
   * {@linkcode AttemptOwner}: the instance's token charge is corrected; the attempt is logged once
   * it is both committed and settled.
   */
  settled(attempt: Attempt): void {
    if (this.tokens !== undefined && attempt.upstream.limiter?.config.unit === "tokens") {
      this.correctInstance(attempt.upstream, attempt.grant, tokenDelta(attempt, this.tokens, attempt.usage));
    }
    if (attempt.committed) this.#logAttempt(attempt);
  }

  /** {@linkcode AttemptOwner}: the request id and the `X-RateLimit-*` of the request's limits. */
  decorate(headers: HeaderList): void {
    headers.set("x-request-id", this.req.requestId);
    // The model that answered, when it is not the name asked for (an alias, a fallback).
    if (this.pool !== undefined && this.pool.name !== this.req.model) {
      headers.set("x-dairouter-model", this.pool.name);
      if (this.substituted) headers.set("x-dairouter-fallback", "model");
    }
    if (this.limits === undefined || this.limits === DEFERRED) return;
    setRateLimitHeaders(headers, this.limits);
  }

  /** The client left while an attempt was waiting: 499 (nginx's "client closed request"). */
  abandoned(attempt: Attempt): Response {
    this.log(499, "client_abort", attempt.upstream.id);
    return new Response(null, { status: 499 });
  }

  /** The error of a denial (counted when a limiter said no). */
  denied(d: Denial): GatewayError {
    if (d.reason === "rate-limited") this.deps.observer.rateLimited(d.scope, this.req.service);
    return denialError(d, this.req);
  }

  /** Logs the request's end when it ends by an error, and gives back a slot still held for it. */
  failed(error: unknown): void {
    // A slot still held for an attempt that never started (whatever threw) goes back.
    this.releaseHeld();
    this.log((error as GatewayError).status ?? 500, (error as GatewayError).code ?? "internal_error");
  }

  /** The request's one access-log line (and its metrics). */
  log(status: number, error?: string, instance?: string, fallback?: string): void {
    this.#access(status, error, instance, fallback, undefined);
  }

  #logAttempt(a: Attempt): void {
    const error = a.kind === "shutdown"
      ? "shutdown"
      : a.outcome === "abort"
      ? "client_abort"
      : a.outcome === "failure"
      ? `upstream_${a.kind}`
      : undefined;
    this.#access(a.status ?? 502, error, a.upstream.id, this.substituted ? "model" : undefined, a);
  }

  #access(status: number, error?: string, instance?: string, fallback?: string, a?: Attempt): void {
    const req = this.#facts;
    const usage = a?.usage;
    if (this.tokens !== undefined) {
      correctAdmission(
        this.deps.limits ?? localLimits,
        this.limits,
        a && tokenDelta(a, this.tokens, a.usage),
        this.tokens,
      );
    }
    this.deps.observer.access({
      requestId: req.requestId,
      traceId: req.traceId,
      clientIp: req.clientIp,
      method: req.method,
      route: req.dialect?.route ?? req.route,
      service: req.service,
      stream: req.stream,
      // The model that answered (or was to): a client's own name (a pattern alias matches any)
      // is no label value, or clients could grow the metrics at will.
      model: this.pool ? this.pool.name : "unknown",
      dialect: req.dialect?.name,
      status,
      durationMs: this.deps.clock() - req.receivedAt,
      retries: this.attempts > 0 ? this.attempts - 1 : 0,
      instance,
      ttftMs: a?.ttfbMs,
      tokensIn: usage?.tokensIn,
      tokensOut: usage?.tokensOut,
      fallback,
      error,
    });
  }
}
