/**
 * The admission queue's data structure: requests waiting for a slot, FIFO within each priority
 * level, highest level first. One {@linkcode AdmissionQueue} per model pool (a slot freed on an
 * instance can only serve requests for that instance's model); the pools of a service share one
 * {@linkcode QueueBudget} (`queue.max-size`, and the depth `dairouter_queue_depth` exports).
 *
 * Costs, so that a long queue costs no more per request than a short one:
 * - {@linkcode AdmissionQueue.add} and {@linkcode AdmissionQueue.remove} are O(1): each level is
 *   an intrusive doubly linked list (the waiter is its own node: no allocation), so a client that
 *   leaves is unlinked at once, wherever it stands;
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

/** What a waiter did when offered a slot. */
export type Offer =
  /** It took a slot and leaves the queue. */
  | "taken"
  /** Every instance it could use is still full: it stays, and so does everyone behind it. */
  | "full"
  /** Nothing can ever serve it here (every instance tried or down): it leaves the queue. */
  | "gone";

/** A waiting request, as the queue sees it (the waiter is its own list node). */
export interface Queued {
  /** 0 … levels − 1; higher is served first. */
  readonly priority: number;
  /** Links, owned by the queue. */
  prev: Queued | undefined;
  next: Queued | undefined;
  /** Whether the waiter is in a queue now (owned by the queue). */
  queued: boolean;
  /** Offered a slot by {@linkcode AdmissionQueue.drain}: try to take one, now, synchronously. */
  offer(): Offer;
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
 * import { AdmissionQueue, type Queued, QueueBudget } from "./admission_queue.ts";
 * let free = 0;
 * const served: string[] = [];
 * const waiter = (name: string, priority: number): Queued => ({
 *   priority, prev: undefined, next: undefined, queued: false,
 *   offer: () => (free > 0 ? (free--, served.push(name), "taken") : "full"),
 * });
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
  readonly #heads: (Queued | undefined)[];
  readonly #tails: (Queued | undefined)[];
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
    this.#heads = new Array(levels).fill(undefined);
    this.#tails = new Array(levels).fill(undefined);
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
    if (w.queued) return true;
    if (this.budget.depth >= this.budget.maxSize) return false;
    this.#link(w, front);
    return true;
  }

  /** Links `w` in, whatever the budget (a waiter put back keeps its place, see `drain`). */
  #link(w: Queued, front: boolean): void {
    const level = Math.min(this.#heads.length - 1, Math.max(0, w.priority | 0));
    if (front) {
      w.prev = undefined;
      w.next = this.#heads[level];
      if (w.next) w.next.prev = w;
      else this.#tails[level] = w;
      this.#heads[level] = w;
    } else {
      w.next = undefined;
      w.prev = this.#tails[level];
      if (w.prev) w.prev.next = w;
      else this.#heads[level] = w;
      this.#tails[level] = w;
    }
    w.queued = true;
    this.#size++;
    this.budget.depth++;
  }

  /** Unlinks `w` (a client that left, a deadline that passed); `false` when it was not queued. */
  remove(w: Queued): boolean {
    if (!w.queued) return false;
    const level = Math.min(this.#heads.length - 1, Math.max(0, w.priority | 0));
    if (w.prev) w.prev.next = w.next;
    else this.#heads[level] = w.next;
    if (w.next) w.next.prev = w.prev;
    else this.#tails[level] = w.prev;
    w.prev = w.next = undefined;
    w.queued = false;
    this.#size--;
    this.budget.depth--;
    return true;
  }

  /** The waiter served next (highest level, oldest first), if any. */
  head(): Queued | undefined {
    if (this.#size === 0) return undefined;
    for (let level = this.#heads.length - 1; level >= 0; level--) {
      const w = this.#heads[level];
      if (w !== undefined) return w;
    }
    return undefined;
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
