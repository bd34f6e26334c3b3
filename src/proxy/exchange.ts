/**
 * One client request across its attempts: which instances it tried, how many attempts it took,
 * the limits that let it in, and its one access-log line. `dispatch` drives it; each upstream
 * try is an {@linkcode Attempt} it owns.
 *
 * @module
 */

import type { GatewayError } from "../errors.ts";
import type { HeaderList } from "../header_list.ts";
import type { Decision, PickContext } from "../types.ts";
import {
  correctInstance,
  denialError,
  instanceDenial,
  isDenial,
  localLimits,
  setRateLimitHeaders,
} from "./access.ts";
import { type Gate, hasRoom, priorityOf, Waiter, type WaiterOwner } from "./admission.ts";
import { Attempt, type AttemptOwner } from "./attempt.ts";
import { release } from "./outcome.ts";
import { pickInput } from "./pick.ts";
import { type ModelRoute, resolveModel } from "./catalogue.ts";
import {
  type AttemptFailure,
  DEFERRED,
  type Denial,
  type DialectCall,
  type DispatchDeps,
  type GatewayRequest,
} from "./request.ts";
import type { ModelPool, Runtime, ServiceRuntime, Upstream } from "./runtime.ts";
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
export class Exchange implements AttemptOwner, WaiterOwner {
  readonly timeouts: ServiceRuntime["config"]["timeouts"];
  readonly signal: AbortSignal;
  readonly shutdown: AbortSignal | undefined;
  /** Where the requested name goes (`undefined` for a name nobody serves: it is denied first). */
  readonly route: ModelRoute | undefined;
  /**
   * The instances of the model being tried: the route's own, then those of each model of its
   * fallback chain in turn (`undefined` for a name nobody serves).
   */
  pool: ModelPool | undefined;
  /** The next position in the route's fallback chain. */
  chainAt = 0;
  /** Another model than the one asked for is tried (a fallback chain was followed). */
  substituted = false;
  /** Instances picked so far, in order (whether or not their limiter let them be tried). */
  readonly tried: Upstream[] = [];
  /** Attempts started (upstream calls); those after the first are retries. */
  attempts = 0;
  /** Attempts given up because their instance was ejected before a byte came (see `mayRetry`). */
  ejected = 0;
  /** Why the last attempt failed, for the error when nothing is left. */
  lastFailure: AttemptFailure | undefined;
  /** The soonest-to-clear instance limiter denial, when instances were skipped for their limit. */
  limitedBy: Decision | undefined;
  /**
   * The tightest request-level limit that let the request in (for `X-RateLimit-*`), or
   * `DEFERRED` until it is decided with the first instance picked.
   */
  limits: Decision | undefined | typeof DEFERRED;
  /**
   * The request's estimated tokens, when some limit it meets counts tokens (`unit: tokens`):
   * reserved before the call, corrected once it ends; `undefined` otherwise.
   */
  tokens: number | undefined;
  /** {@linkcode WaiterOwner}: instances the last pick found eligible but full (gated pools only). */
  full = 0;
  /** What the strategy sees of the request, for the current pool (built at its first pick). */
  #pick: PickContext<Upstream> | undefined;
  /** An instance whose slot the queue reserved for this request's next attempt. */
  #reserved: Upstream | undefined;
  /** The instance of the last attempt started (a retry is counted against it). */
  #last: Upstream | undefined;
  /** What the last admitted pick's cluster-wide token limit took, for the attempt that starts next. */
  #grant: Decision | undefined;
  /** The request's place in the current pool's admission queue, when it had to wait. */
  #waiter: Waiter | undefined;
  /** A reload removed `pool`'s model (until a fallback model is substituted). */
  #gone = false;
  /** The table `pool` belongs to (`rt`, until a waiter follows a reload: {@linkcode Exchange.take}). */
  #table: Runtime;
  /** The request's bodies as its instances need them (model renamed, usage asked for). */
  #bodies: UpstreamBodies | undefined;
  #req: GatewayRequest | undefined;
  /** What the access-log line says of the request: the request itself, until it is let go. */
  #facts: RequestFacts;

  constructor(
    readonly rt: Runtime,
    readonly deps: DispatchDeps,
    readonly svc: ServiceRuntime,
    req: GatewayRequest,
  ) {
    this.#req = this.#facts = req;
    this.timeouts = svc.config.timeouts;
    this.signal = req.signal;
    this.shutdown = deps.shutdown;
    this.route = resolveModel(svc.catalogue, req.model);
    this.pool = this.route?.pool;
    this.#table = rt;
    this.#bodies = new UpstreamBodies(req);
  }

  /** The request, until a stream is committed (see {@linkcode Exchange.commit}). */
  get req(): GatewayRequest {
    if (this.#req === undefined) throw new Error("the request was let go when its stream was committed");
    return this.#req;
  }

  /**
   * The next instance to try: picked by the strategy, then admitted by its own limiter and its
   * breaker; `undefined` when none is left. A promise when a cluster-wide limit answers later, or
   * — in a pool with admission limits — when every eligible instance is full (or others already
   * wait): the request then waits in the pool's queue for a slot. Every pick is in the live
   * table: after a reload, a retry sees the instances and limits in force now.
   */
  next(): Upstream | undefined | Promise<Upstream | undefined> {
    const pool = this.#follow();
    if (pool === undefined) {
      this.full = 0; // nothing is full here: there is no "here" any more
      return undefined; // the reload removed the model
    }
    const gate = pool.gate;
    if (gate === undefined) return this.#pickNext();
    // FIFO: slots that are free go to those already waiting; a newcomer waits behind them.
    gate.queue.drain();
    if (gate.queue.size === 0) {
      const u = this.#pickNext();
      if (u instanceof Promise) {
        return u.then((v) => (v !== undefined || this.full === 0 ? v : this.#wait(gate)));
      }
      if (u !== undefined || this.full === 0) return u;
    }
    // Behind others, nothing was picked: the request-level limits that are decided together with
    // the first pick (cluster-wide) are decided now, before the wait, or never.
    if (this.limits === DEFERRED) return this.#admitWith(undefined).then(() => this.#wait(gate));
    return this.#wait(gate);
  }

  /**
   * Picks and admits an instance; the limits may answer later (see {@linkcode Exchange.next}).
   * In a pool with admission limits the pick holds its slot at once, until the attempt starts or
   * the pick is refused: others picking meanwhile (waiters moving on together, a limit's answer
   * still on its way) see the instance as it will be.
   */
  #pickNext(): Upstream | undefined | Promise<Upstream | undefined> {
    const pool = this.pool!;
    const pick = this.#pickContext(pool);
    const gated = pool.gate !== undefined;
    this.full = 0;
    for (;;) {
      const u = pool.strategy.pick(pick);
      if (gated && u !== undefined) this.reserve(u);
      if (this.limits === DEFERRED) return this.#admitWith(u);
      if (u === undefined) return undefined;
      this.tried.push(u);
      if (u.limiter === undefined) {
        if (u.breaker.tryAcquire()) return u;
        this.#unreserve(u);
        continue;
      }
      // A cluster-wide instance limit answers later: the rest of the loop continues from there.
      const verdict = this.#instanceLimit(u);
      if (verdict instanceof Promise) return verdict.then((d) => this.#afterLimit(u, d));
      if (this.#admitted(u, verdict)) return u;
      this.#unreserve(u);
    }
  }

  /**
   * What `u`'s own limit says: the cluster's (which may answer later) or the in-process limiter's.
   * When it cannot answer (a cluster backend down with `on-unavailable: deny` throws), the slot
   * held for `u` goes back and the error goes on.
   */
  #instanceLimit(u: Upstream): Decision | undefined | Promise<Decision | undefined> {
    const decider = this.deps.limits;
    const tokens = this.tokens ?? 0;
    try {
      const verdict = decider?.instance ? decider.instance(u, tokens) : instanceDenial(u, tokens);
      if (!(verdict instanceof Promise)) return verdict;
      return verdict.catch((error) => {
        this.#unreserve(u);
        throw error;
      });
    } catch (error) {
      this.#unreserve(u);
      throw error;
    }
  }

  /** `u` when its limit's answer `verdict` and its breaker admit it; else (its slot back) the next pick. */
  #afterLimit(
    u: Upstream,
    verdict: Decision | undefined,
  ): Upstream | undefined | Promise<Upstream | undefined> {
    if (this.#admitted(u, verdict)) return u;
    this.#unreserve(u);
    return this.next();
  }

  /** Gives back the slot held for `u` by its pick (it was refused after all). */
  #unreserve(u: Upstream): void {
    if (this.#reserved !== u) return;
    this.#reserved = undefined;
    release(u);
  }

  /**
   * {@linkcode WaiterOwner}: picks an instance of the current pool now, synchronously (a slot is
   * handed over on the spot), and admits it by its in-process limiter and breaker — unless its
   * limit is cluster-wide: that one cannot answer on the spot, so it and the breaker decide once
   * the slot is handed over (`#clusterAdmit`). When a reload replaced the table while the request
   * waited, the slot is taken in the live table's pool of the same model; none is taken when that
   * model is gone.
   */
  take(): Upstream | undefined {
    this.full = 0;
    const pool = this.#follow();
    if (pool === undefined) return undefined;
    const pick = this.#pickContext(pool);
    // Not replaced by the in-process limiter: see above.
    const cluster = this.deps.limits?.instance !== undefined;
    for (;;) {
      const u = pool.strategy.pick(pick);
      if (u === undefined) return undefined;
      this.tried.push(u);
      if (cluster && u.limiter !== undefined) return u;
      if (this.#admitted(u, instanceDenial(u, this.tokens ?? 0))) return u;
    }
  }

  /**
   * The pool to take a slot in: the current one, or the live table's pool of the same model after
   * a reload (`undefined` when the model is gone). Instances already tried stay excluded: their
   * entries in `tried` become the live table's objects (limits, breakers and counts are the
   * same: they are carried over by instance id).
   */
  #follow(): ModelPool | undefined {
    const live = this.deps.live?.();
    if (live === undefined || live === this.#table) return this.#gone ? undefined : this.pool!;
    // From now on the request is on the live table: a later wait is in its queue (with its
    // `max-wait`), a fallback chain goes on in its pools (see `substitute`).
    this.#table = live;
    this.#waiter = undefined;
    const pool = this.#inTable(this.pool!);
    this.#gone = pool === undefined;
    if (pool === undefined) return undefined;
    for (const u of pool.upstreams) {
      const at = this.tried.findIndex((t) => t.id === u.id);
      if (at >= 0) this.tried[at] = u;
    }
    this.pool = pool;
    this.#pick = undefined;
    return pool;
  }

  /** {@linkcode WaiterOwner}: holds `u`'s slot for the attempt that starts next. */
  reserve(u: Upstream): void {
    u.stats.inFlight++;
    this.#reserved = u;
  }

  /** What the strategy sees of this request in `pool` (built once per pool). */
  #pickContext(pool: ModelPool): PickContext<Upstream> {
    if (this.#pick === undefined) {
      const gate = pool.gate;
      const max = gate?.config.maxEngineQueue;
      this.#pick = pickInput(
        this.svc,
        pool,
        this.req,
        this.tried,
        gate === undefined ? undefined : (u) => hasRoom(u, max) || (this.full++, false),
      );
    }
    return this.#pick;
  }

  /** Waits in `gate`'s queue (a retry at the head of its priority). */
  #wait(gate: Gate): Promise<Upstream | undefined> {
    this.#waiter ??= new Waiter(
      this,
      gate,
      {
        deadlines: this.deps.deadlines,
        observer: this.deps.observer,
        signal: this.signal,
        shutdown: this.shutdown,
      },
      priorityOf(this.req, gate.config.priorityHeader),
    );
    const served = this.#waiter.wait(this.attempts > 0);
    return this.deps.limits?.instance ? served.then((u) => u && this.#clusterAdmit(u)) : served;
  }

  /**
   * A slot the queue handed over on an instance whose limit is cluster-wide: that limit and the
   * breaker decide now, as for a pick. Refused, the slot goes back and the pick goes on.
   */
  async #clusterAdmit(u: Upstream): Promise<Upstream | undefined> {
    if (u.limiter === undefined) return u;
    return await this.#afterLimit(u, await this.#instanceLimit(u));
  }

  /**
   * The request-level limits decided together with the first pick `u` (one round trip): throws
   * the 429 of a request-level denial; else `u` when its own limit and breaker admit it, or
   * the next pick.
   */
  async #admitWith(u: Upstream | undefined): Promise<Upstream | undefined> {
    let both;
    try {
      both = this.deps.limits!.decideWith!(this.rt, this.svc, this.req, u, this.tokens ?? 0);
      if (both instanceof Promise) both = await both;
    } catch (error) {
      if (u !== undefined) this.#unreserve(u);
      throw error;
    }
    if (isDenial(both.admission)) {
      if (u !== undefined) this.#unreserve(u);
      throw this.denied(both.admission);
    }
    this.limits = both.admission;
    if (u === undefined) return undefined;
    this.tried.push(u);
    if (this.#admitted(u, both.instance)) return u;
    this.#unreserve(u);
    return await this.next();
  }

  /**
   * Whether `u`, whose limit answered `verdict` (`undefined` or an allowing grant: admitted), takes
   * the attempt (its breaker admits it). The grant goes with the attempt that starts next.
   */
  #admitted(u: Upstream, verdict: Decision | undefined): boolean {
    if (verdict === undefined || verdict.allowed) {
      if (u.breaker.tryAcquire()) {
        this.#grant = verdict;
        return true;
      }
      if (this.tokens !== undefined) this.#correctInstance(u, verdict, -this.tokens); // not tried after all
      return false;
    }
    this.deps.observer.rateLimited("instance", this.req.service);
    if (!this.limitedBy || verdict.retryAfterMs < this.limitedBy.retryAfterMs) this.limitedBy = verdict;
    return false;
  }

  /**
   * Starts an attempt on `u`: the call is prepared (the adapter's translation, or the client's
   * own bytes for a backend that speaks its dialect), `u`'s in-flight count goes up (unless its
   * pick in a gated pool, or the queue, already reserved it).
   */
  start(u: Upstream): Attempt {
    const reserved = this.#reserved === u;
    const grant = this.#grant;
    this.#reserved = this.#grant = undefined;
    let prepared: PreparedCall;
    try {
      prepared = prepareCall(this.req, this.#bodies!, u);
    } catch (error) {
      u.breaker.onIgnored();
      if (reserved) release(u);
      if (this.tokens !== undefined) this.#correctInstance(u, grant, -this.tokens);
      throw error;
    }
    if (this.attempts++ > 0) this.deps.observer.retry(this.#last!);
    this.#last = u;
    if (!reserved) u.stats.inFlight++;
    const attempt = new Attempt(this, u, prepared.call, prepared.stripUsage, prepared.reply);
    attempt.grant = grant;
    return attempt;
  }

  /**
   * Corrects the tokens `u`'s limit took by `delta`: where they were taken — the decider's
   * backend when it answered with a `grant` (a cluster-wide limit), else `u`'s own limiter.
   */
  #correctInstance(u: Upstream, grant: Decision | undefined, delta: number): void {
    if (grant === undefined) correctInstance(u, delta);
    else correctAdmission(this.deps.limits!, grant, delta, 0);
  }

  /**
   * Moves on to model `pool` of the fallback chain: its instances are picked from now on, and
   * the answer will say it came from another model.
   */
  substitute(pool: ModelPool): boolean {
    const live = this.#inTable(pool);
    if (live === undefined) return false;
    this.pool = live;
    this.#gone = false;
    this.substituted = true;
    // The strategy's inputs and the admission queue are the new pool's.
    this.#pick = undefined;
    this.#waiter = undefined;
    return true;
  }

  /**
   * `pool` of the route (the table the request started on) as the request's table has it: the
   * same pool, or — once a waiter followed a reload — the live table's pool of that model
   * (`undefined` when the reload removed it).
   */
  #inTable(pool: ModelPool): ModelPool | undefined {
    return this.#table === this.rt ? pool : this.#table.services[this.svc.kind]?.pools.get(pool.name);
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
    this.#req =
      this.#bodies =
      this.#pick =
      this.#waiter =
        undefined;
  }

  /**
   * {@linkcode AttemptOwner}: the instance's token charge is corrected; the attempt is logged once
   * it is both committed and settled.
   */
  settled(attempt: Attempt): void {
    if (this.tokens !== undefined && attempt.upstream.limiter?.config.unit === "tokens") {
      this.#correctInstance(attempt.upstream, attempt.grant, tokenDelta(attempt, this.tokens, attempt.usage));
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
    if (this.#reserved !== undefined) this.#unreserve(this.#reserved);
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
