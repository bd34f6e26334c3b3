/**
 * The admission queue's data structure: requests waiting for a slot, FIFO within each priority
 * level, highest level first. One {@linkcode AdmissionQueue} per model pool (a slot freed on an
 * instance can only serve requests for that instance's model); the pools of a service share one
 * {@linkcode QueueBudget} (`queue.max-size`, and the depth `dairouter_queue_depth` exports).
 *
 * Costs, so that a long queue costs no more per request than a short one:
 * - {@linkcode AdmissionQueue.add} and {@linkcode AdmissionQueue.remove} are O(1): each level is
 *   a {@linkcode LinkedList} of the waiters' own links (no allocation), so a client that leaves is
 *   unlinked at once, wherever it stands;
 * - {@linkcode AdmissionQueue.drain} is O(1) per waiter it serves plus one offer that fails, and
 *   stops at the first waiter that finds every instance full (a FIFO queue: nobody behind it may
 *   overtake it);
 * - memory is bounded by the budget's `maxSize` waiters; no timer per waiter (their `max-wait`
 *   deadlines live in the gateway's one `DeadlineSweep`).
 *
 * The queue knows nothing of HTTP or instances: a waiter is offered a slot and says what it did
 * with it ({@linkcode Queued.offer}). The request path's waiter is in `admission.ts`; the routing
 * simulation drives this same class.
 *
 * @module
 */

import type { QueueConfig } from "../config/types.ts";
import { type Link, LinkedList } from "../linked_list.ts";
import type { ServiceKind } from "../types.ts";

/** What a waiter did when offered a slot. */
export type Offer =
  /** It took a slot and leaves the queue. */
  | "taken"
  /** Every instance it could use is still full: it stays, and so does everyone behind it. */
  | "full"
  /** Nothing can ever serve it here (every instance tried or down): it leaves the queue. */
  | "gone";

/** A waiting request, as the queue sees it. */
export interface Queued {
  /** 0 … levels − 1; higher is served first. */
  readonly priority: number;
  /** Its place in a queue (`queueLink.list`: the level it waits in, `undefined` when it does not). */
  readonly queueLink: Link<Queued>;
  /** Offered a slot by {@linkcode AdmissionQueue.drain}: try to take one, now, synchronously. */
  offer(): Offer;
}

/** A pool's admission limits and queue. */
export interface Gate {
  readonly service: ServiceKind;
  readonly queue: AdmissionQueue;
  readonly config: QueueConfig;
}

/** The waiting requests of a service, over its pools: their number, and its bound. */
export class QueueBudget {
  /** Requests waiting now. */
  depth = 0;

  /** @param maxSize Requests allowed to wait at once (0: none). */
  constructor(public maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 0) {
      throw new RangeError(
        `Cannot create queue budget: "maxSize" must be an integer >= 0, received ${maxSize}`,
      );
    }
  }
}

/**
 * Waiters of one pool by priority.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AdmissionQueue, type Offer, type Queued, QueueBudget } from "./admission_queue.ts";
 * import { Link } from "../linked_list.ts";
 * let free = 0;
 * const served: string[] = [];
 * class Request implements Queued {
 *   readonly queueLink: Link<Queued> = new Link(this);
 *   constructor(readonly name: string, readonly priority: number) {}
 *   offer(): Offer {
 *     return free > 0 ? (free--, served.push(this.name), "taken") : "full";
 *   }
 * }
 * const waiter = (name: string, priority: number) => new Request(name, priority);
 * const q = new AdmissionQueue(new QueueBudget(10), 10);
 * q.add(waiter("a", 0));
 * q.add(waiter("b", 5));
 * q.add(waiter("c", 0));
 * free = 2;
 * q.drain();
 * assert.deepEqual(served, ["b", "a"]); // priority first, then FIFO
 * assert.equal(q.size, 1);
 * ```
 */
export class AdmissionQueue {
  readonly budget: QueueBudget;
  /** Level by level, lowest priority first. */
  readonly #levels: LinkedList<Queued>[];
  #size = 0;
  #draining = false;

  /** @param levels Priority levels (priorities 0 … levels − 1). */
  constructor(budget: QueueBudget, levels: number) {
    if (!Number.isInteger(levels) || levels < 1 || levels > 64) {
      throw new RangeError(
        `Cannot create admission queue: "levels" must be an integer in 1..64, received ${levels}`,
      );
    }
    this.budget = budget;
    this.#levels = Array.from({ length: levels }, () => new LinkedList<Queued>());
  }

  /** Waiters in this queue. */
  get size(): number {
    return this.#size;
  }

  /**
   * Queues `w` at the back of its level (`front`: at the front — a retry keeps its turn).
   * Returns `false`, queueing nothing, when the service's budget is used up.
   */
  add(w: Queued, front = false): boolean {
    if (w.queueLink.list !== undefined) return true;
    if (this.budget.depth >= this.budget.maxSize) return false;
    this.#link(w, front);
    return true;
  }

  /** Links `w` in, whatever the budget (a waiter put back keeps its place, see `drain`). */
  #link(w: Queued, front: boolean): void {
    const level = this.#level(w);
    if (front) level.unshift(w.queueLink);
    else level.push(w.queueLink);
    this.#size++;
    this.budget.depth++;
  }

  /** Unlinks `w` (a client that left, a deadline that passed); `false` when it was not queued here. */
  remove(w: Queued): boolean {
    if (!this.#level(w).remove(w.queueLink)) return false;
    this.#size--;
    this.budget.depth--;
    return true;
  }

  /** The waiter served next (highest level, oldest first), if any. */
  head(): Queued | undefined {
    if (this.#size === 0) return undefined;
    for (let level = this.#levels.length - 1; level >= 0; level--) {
      const w = this.#levels[level].first;
      if (w !== undefined) return w;
    }
    return undefined;
  }

  #level(w: Queued): LinkedList<Queued> {
    return this.#levels[Math.min(this.#levels.length - 1, Math.max(0, w.priority | 0))];
  }

  /**
   * A slot may have freed (a request ended, an engine's queue shrank): offers it to the waiters
   * in order until one finds everything full. Reentrant calls (an offer that frees a slot) are
   * folded into the running drain.
   */
  drain(): void {
    if (this.#size === 0 || this.#draining) return;
    this.#draining = true;
    try {
      for (let w = this.head(); w !== undefined; w = this.head()) {
        this.remove(w);
        const offer = w.offer();
        if (offer === "full") {
          // Back at the head, even past a budget a reload lowered: it was counted already.
          this.#link(w, true);
          return;
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}
