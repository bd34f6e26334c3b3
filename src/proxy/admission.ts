/**
 * Admission: whether an instance can take one more request now, and what a request does when
 * none can — it waits in its pool's {@linkcode AdmissionQueue} (FIFO within its priority) until a
 * slot frees, `queue.max-wait` passes (503 with `Retry-After`), or its client leaves (at once).
 *
 * An instance is full while it has `max-concurrency` requests in flight (streams count until they
 * end: the slot is the in-flight count, released exactly once with it), or while its engine's
 * trusted, corrected queue is above `queue.max-engine-queue`. A pool whose instances have neither
 * limit has no {@linkcode Gate}, and its requests pay nothing for any of this.
 *
 * A slot is handed over, not raced for: when a request ends (or a scrape lands) the queue is
 * drained synchronously, and each waiter served picks and reserves its instance's slot on the
 * spot, so nobody arriving in between can take it, and `max-concurrency` is never exceeded.
 *
 * @module
 */

import type { InstanceConfig, ServiceConfig } from "../config/types.ts";
import { ClientGoneError, QueueFullError, QueueTimeoutError, ShuttingDownError } from "../errors.ts";
import { engineLoadOf } from "../signals/instance_signal.ts";
import type { UpstreamStats } from "../types.ts";
import { PRIORITY_LEVELS } from "../config/queue.ts";
import { AdmissionQueue, type Gate, type Offer, QueueBudget, type Queued } from "./admission_queue.ts";
import type { DeadlineSweep, Watch } from "./deadlines.ts";
import { Link } from "../linked_list.ts";
import { AbortFanout, type AbortMember } from "./abort_fanout.ts";
import { retryAfterSeconds } from "./access.ts";
import type { DispatchObserver, GatewayRequest, QueueOutcome } from "./request.ts";
import type { RuntimeState, Upstream } from "./runtime_types.ts";

/** The service's queue budget (kept across reloads: waiters count against it), resized to the config. */
export function budgetFor(state: RuntimeState, svc: ServiceConfig): QueueBudget {
  let budget = state.budgets.get(svc.kind);
  if (budget === undefined) {
    budget = new QueueBudget(svc.queue.maxSize);
    state.budgets.set(svc.kind, budget);
  }
  budget.maxSize = svc.queue.maxSize;
  return budget;
}

/**
 * The admission gate of one pool, when it has limits: some instance's `max-concurrency`, or the
 * service's `queue.max-engine-queue`. The queue is kept across reloads by `service/model`.
 */
export function gateFor(
  state: RuntimeState,
  svc: ServiceConfig,
  model: string,
  instances: readonly InstanceConfig[],
  budget: QueueBudget,
): Gate | undefined {
  const engineGate = svc.queue.maxEngineQueue !== undefined;
  if (!engineGate && !instances.some((i) => i.maxConcurrency !== undefined)) return undefined;
  const key = `${svc.kind}/${model}`;
  let queue = state.queues.get(key);
  if (queue === undefined) {
    queue = new AdmissionQueue(budget, PRIORITY_LEVELS);
    state.queues.set(key, queue);
  }
  return { service: svc.kind, queue, config: svc.queue };
}

/** What {@linkcode hasRoom} reads of an instance. */
export interface Slotted {
  readonly stats: UpstreamStats;
  readonly config: { readonly maxConcurrency?: number };
}

/**
 * Whether `u` can take one more request: below its `max-concurrency`; and, with
 * `maxEngineQueue`, the request would not make the engine's own queue (trusted, corrected by
 * what the gateway sent since) longer than that — it would run at once (no queue, a batch below
 * its learned size), or fewer than `maxEngineQueue` wait.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasRoom } from "./admission.ts";
 * const u = { stats: { inFlight: 2, latencyEwmaMs: 0, errorEwma: 0 }, config: { maxConcurrency: 2 } };
 * assert.equal(hasRoom(u, undefined), false);
 * u.stats.inFlight = 1;
 * assert.equal(hasRoom(u, undefined), true);
 * ```
 */
export function hasRoom(u: Slotted, maxEngineQueue: number | undefined): boolean {
  const max = u.config.maxConcurrency;
  if (max !== undefined && u.stats.inFlight >= max) return false;
  if (maxEngineQueue === undefined) return true;
  const load = engineLoadOf(u);
  if (load === undefined) return true;
  const waiting = load.waiting ?? 0;
  const running = load.running ?? 0;
  // NaN is no reading: judged as a missing one (`max-concurrency` alone), as `engineWork` does.
  if (Number.isNaN(waiting) || Number.isNaN(running)) return true;
  const queues = waiting > 0 || (load.batch !== undefined && running >= load.batch);
  return !queues || waiting < maxEngineQueue;
}

const DIGIT = /^\s*(\d)\s*$/;

/**
 * A request's priority (0 … 9, higher first): its API key's `priority`; with `priority:
 * header:<Name>` the header's value when it is a digit — at most the key's `priority` when the
 * key has one (a key's level is its ceiling; a client may only lower itself) — else 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { priorityOf } from "./admission.ts";
 * const req = { clientHeaders: new Headers({ "x-priority": "7" }), apiKey: { name: "k", keySha256: "", priority: 5 } };
 * assert.equal(priorityOf(req, "x-priority"), 5);
 * assert.equal(priorityOf({ clientHeaders: new Headers({ "x-priority": "7" }) }, "x-priority"), 7);
 * assert.equal(priorityOf(req, undefined), 5);
 * ```
 */
export function priorityOf(
  req: Pick<GatewayRequest, "clientHeaders" | "apiKey">,
  header: string | undefined,
): number {
  const own = req.apiKey?.priority;
  if (header !== undefined) {
    const m = DIGIT.exec(req.clientHeaders.get(header) ?? "");
    if (m !== null) {
      const asked = Math.min(PRIORITY_LEVELS - 1, Number(m[1]));
      return own === undefined ? asked : Math.min(asked, own);
    }
  }
  return own ?? 0;
}

/** The request a {@linkcode Waiter} waits for (an `Exchange`). */
export interface WaiterOwner {
  /** Picks and admits an instance now, synchronously; `undefined` when none can take it. */
  take(): Upstream | undefined;
  /** Instances the last {@linkcode WaiterOwner.take} found eligible but full. */
  readonly full: number;
  /** Holds `u`'s slot (its in-flight count) for the attempt about to start on it. */
  reserve(u: Upstream): void;
}

/** What a waiter needs of the gateway. */
export interface WaiterDeps {
  readonly deadlines: DeadlineSweep;
  readonly observer: DispatchObserver;
  /** Aborts when the client goes away. */
  readonly signal: AbortSignal;
  /** Aborts when the gateway cuts everything at its shutdown deadline. */
  readonly shutdown: AbortSignal | undefined;
}

const ONCE: AddEventListenerOptions = Object.freeze({ once: true });

/**
 * One request waiting for a slot: its own queue member, deadline watch and abort listener (methods,
 * not closures), so waiting allocates this object, its three list links and one promise per wait.
 */
export class Waiter implements Queued, Watch, AbortMember {
  readonly queueLink: Link<Queued> = new Link(this);
  due = Infinity;
  readonly dueLink: Link<Watch> = new Link(this);
  readonly abortLink: Link<AbortMember> = new Link(this);
  readonly priority: number;
  readonly #owner: WaiterOwner;
  readonly #gate: Gate;
  readonly #deps: WaiterDeps;
  #since = 0;
  #resolve: (u: Upstream | undefined) => void = () => {};
  #reject: (e: unknown) => void = () => {};

  constructor(owner: WaiterOwner, gate: Gate, deps: WaiterDeps, priority: number) {
    this.#owner = owner;
    this.#gate = gate;
    this.#deps = deps;
    this.priority = priority;
  }

  /**
   * Waits for a slot (`front`: at the head of its level — a retry keeps its turn). Resolves with
   * the instance whose slot is reserved, or `undefined` when nothing can ever serve it; rejects
   * with a 429 (queue full), a 503 (`max-wait` passed; the gateway shutting down) or a 499 (the
   * client left).
   */
  wait(front: boolean): Promise<Upstream | undefined> {
    const { config, queue } = this.#gate;
    const { signal, shutdown, deadlines } = this.#deps;
    if (shutdown?.aborted) return Promise.reject(new ShuttingDownError());
    if (signal.aborted) return Promise.reject(new ClientGoneError());
    const retryAfter = retryAfterSeconds(config.maxWaitMs);
    if (!queue.add(this, front)) {
      this.#deps.observer.queueLeft?.(this.#gate.service, "rejected", 0);
      return Promise.reject(
        new QueueFullError(
          `Service ${this.#gate.service}: every instance is at its limit and ${
            config.maxSize > 0 ? `the queue is full (${config.maxSize} waiting)` : "no queue is configured"
          }; retry after ${retryAfter} s.`,
          retryAfter,
        ),
      );
    }
    this.#since = deadlines.now();
    this.due = this.#since + config.maxWaitMs;
    deadlines.add(this);
    signal.addEventListener("abort", this, ONCE);
    if (shutdown) AbortFanout.of(shutdown).add(this);
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** {@linkcode Queued}: a slot may be free — take it now, or say why not. */
  offer(): Offer {
    const u = this.#owner.take();
    if (u !== undefined) {
      this.#owner.reserve(u);
      this.#leave("served");
      this.#resolve(u);
      return "taken";
    }
    if (this.#owner.full > 0) return "full";
    this.#leave("gone");
    this.#resolve(undefined);
    return "gone";
  }

  /** {@linkcode Watch}: `max-wait` passed (the sweep has already dropped the watch). */
  expire(): void {
    if (!this.#gate.queue.remove(this)) return;
    this.#leave("timeout");
    const s = retryAfterSeconds(this.#gate.config.maxWaitMs);
    this.#reject(
      new QueueTimeoutError(
        `Service ${this.#gate.service}: no instance had room within the queue's max-wait of ${s} s; ` +
          `retry after ${s} s.`,
        s,
      ),
    );
  }

  /** The client left, or the gateway is cutting everything: leave the queue at once. */
  handleEvent(): void {
    if (!this.#gate.queue.remove(this)) return;
    this.#leave("abort");
    this.#reject(this.#deps.shutdown?.aborted ? new ShuttingDownError() : new ClientGoneError());
  }

  #leave(outcome: QueueOutcome): void {
    const { deadlines, signal, observer } = this.#deps;
    deadlines.delete(this);
    signal.removeEventListener("abort", this);
    this.abortLink.leave();
    observer.queueLeft?.(this.#gate.service, outcome, deadlines.now() - this.#since);
  }
}
