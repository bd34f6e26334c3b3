/**
 * How a request finds the instance for its next attempt: the strategy picks in the model's pool
 * (the live table's, after a reload), the instance's own limit and breaker admit it, a gated pool
 * holds the slot at once or the request waits in the admission queue, and a model with nothing
 * left hands over to its fallback chain (`substitute`). `Exchange` (`exchange.ts`) is this plus what
 * the request does with its attempts.
 *
 * @module
 */

import type { GatewayError } from "../errors.ts";
import type { Decision, PickContext } from "../types.ts";
import { correctInstance, instanceDenial, isDenial } from "./access.ts";
import { hasRoom, priorityOf, Waiter, type WaiterOwner } from "./admission.ts";
import type { Gate } from "./admission_queue.ts";
import { resolveModel } from "./catalogue.ts";
import { release } from "./outcome.ts";
import { pickInput } from "./pick.ts";
import { DEFERRED, type Denial, type DispatchDeps, type GatewayRequest } from "./request.ts";
import type { ModelPool, ModelRoute, Runtime, ServiceRuntime, Upstream } from "./runtime_types.ts";
import { correctAdmission } from "./token_charge.ts";

/** The picking half of one request's state (see the module doc). */
export abstract class Picking implements WaiterOwner {
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
  /** What the last admitted pick's cluster-wide token limit took, for the attempt that starts next. */
  #grant: Decision | undefined;
  /** The request's place in the current pool's admission queue, when it had to wait. */
  #waiter: Waiter | undefined;
  /** A reload removed `pool`'s model (until a fallback model is substituted). */
  #gone = false;
  /** The table `pool` belongs to (`rt`, until a waiter follows a reload: {@linkcode Picking.take}). */
  #table: Runtime;

  constructor(
    readonly rt: Runtime,
    readonly deps: DispatchDeps,
    readonly svc: ServiceRuntime,
    model: string,
  ) {
    this.route = resolveModel(svc.catalogue, model);
    this.pool = this.route?.pool;
    this.#table = rt;
  }

  /** The request (until it is let go: see `Exchange.commit`). */
  abstract get req(): GatewayRequest;
  /** Attempts started so far (a retry waits at the head of its priority). */
  abstract readonly attempts: number;
  /** Aborts when the client goes away. */
  abstract readonly signal: AbortSignal;
  /** Aborts when the gateway cuts what is left at its shutdown deadline. */
  abstract readonly shutdown: AbortSignal | undefined;
  /** The error of a request-level denial decided with the first pick. */
  abstract denied(d: Denial): GatewayError;

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
   * Picks and admits an instance; the limits may answer later (see {@linkcode Picking.next}).
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
      if (this.tokens !== undefined) this.correctInstance(u, verdict, -this.tokens); // not tried after all
      return false;
    }
    this.deps.observer.rateLimited("instance", this.req.service);
    if (!this.limitedBy || verdict.retryAfterMs < this.limitedBy.retryAfterMs) this.limitedBy = verdict;
    return false;
  }

  /**
   * Corrects the tokens `u`'s limit took by `delta`: where they were taken — the decider's
   * backend when it answered with a `grant` (a cluster-wide limit), else `u`'s own limiter.
   */
  protected correctInstance(u: Upstream, grant: Decision | undefined, delta: number): void {
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

  /**
   * Hands the slot held for `u` to its attempt: whether one was held (the attempt then does not
   * count `u`'s in-flight again).
   */
  protected takeReserved(u: Upstream): boolean {
    const held = this.#reserved === u;
    this.#reserved = undefined;
    return held;
  }

  /** Hands what the last admitted pick's cluster-wide token limit took to the attempt starting. */
  protected takeGrant(): Decision | undefined {
    const grant = this.#grant;
    this.#grant = undefined;
    return grant;
  }

  /** Gives back a slot still held for an attempt that never started (the request ended by an error). */
  protected releaseHeld(): void {
    if (this.#reserved !== undefined) this.#unreserve(this.#reserved);
  }

  /** The request will pick no more (its answer is committed): the strategy's inputs and the queue's place go. */
  protected donePicking(): void {
    this.#pick = this.#waiter = undefined;
  }
}
