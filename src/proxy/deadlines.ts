/**
 * One timer for every attempt's deadlines. Each attempt has up to three (headers, idle gap
 * between chunks, total); arming and clearing two or three `setTimeout`s per attempt cost more
 * than the limiter, balancer and breaker together (issue 7's profile). Here an attempt is a
 * {@linkcode Watch} in a set, served by one timer armed for the earliest deadline:
 *
 * - adding a watch due later than the armed timer (the usual case: every attempt has the same
 *   budgets) is a set insertion; moving a deadline later (idle, on every chunk) an assignment;
 * - removing the last watch leaves the timer armed: it fires once more, finds nothing and stops,
 *   so one request after another does not clear and re-arm a timer each time;
 * - a deadline earlier than the armed timer re-arms it only when it is earlier by more than
 *   1/16 of its own timeout (at least 1 ms): a watch expires at most that late, and a stream of
 *   requests whose idle deadline is a little earlier than their header deadline costs no timer
 *   calls at all.
 *
 * The watches are a {@linkcode LinkedList} of their own links: adding and removing one is four
 * assignments, with no allocation and no hash table to grow, shrink and rehash as requests come and
 * go (a `Set` here cost ~4 % of the in-process request path).
 *
 * When the timer fires, the expired watches are removed and told, and the timer is re-armed for
 * the next. The timer is unref'd (it never keeps the process alive); {@linkcode DeadlineSweep.stop}
 * clears it when the gateway closes. Deadlines are on the sweep's own monotonic clock
 * (`performance.now()` unless injected): real time, like the socket timeouts they stand for.
 *
 * @module
 */

import { type Link, LinkedList } from "../linked_list.ts";

/** Something with a deadline. */
export interface Watch {
  /** When it expires, on the sweep's clock (`Infinity`: not yet). May be moved later at will. */
  due: number;
  /** Called once when `due` has passed; the watch is already removed. */
  expire(): void;
  /** Its place in a sweep (a class field: `readonly dueLink: Link<Watch> = new Link(this)`). */
  readonly dueLink: Link<Watch>;
}

/** Timer functions, injectable for tests. */
export interface TimerApi {
  readonly now: () => number;
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout: (id: unknown) => void;
}

const REAL_TIMERS: TimerApi = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const id = setTimeout(fn, ms);
    Deno.unrefTimer(id);
    return id;
  },
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/**
 * A set of watches served by one timer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeadlineSweep, type Watch } from "./deadlines.ts";
 * import { Link } from "../linked_list.ts";
 * const sweep = new DeadlineSweep();
 * class Call implements Watch {
 *   due = sweep.now() + 30_000;
 *   readonly dueLink: Link<Watch> = new Link(this);
 *   expire() {
 *     console.log("timed out");
 *   }
 * }
 * const attempt = new Call();
 * sweep.add(attempt);
 * attempt.due = sweep.now() + 30_000; // a chunk arrived: later, no call needed
 * sweep.delete(attempt); // the body ended in time
 * sweep.stop(); // the gateway closes
 * assert(sweep.size === 0);
 * ```
 */
export class DeadlineSweep {
  readonly #watches = new LinkedList<Watch>();
  readonly #timers: TimerApi;
  #timer: unknown;
  /** When the armed timer fires (`Infinity`: none armed). */
  #armedAt = Infinity;

  constructor(timers: TimerApi = REAL_TIMERS) {
    this.#timers = timers;
  }

  /** The sweep's clock, in ms. */
  now(): number {
    return this.#timers.now();
  }

  /** Watches not yet expired or removed. */
  get size(): number {
    return this.#watches.size;
  }

  /** Starts watching `w` (when it is watched already: only {@linkcode DeadlineSweep.moved}). */
  add(w: Watch): void {
    this.#watches.push(w.dueLink);
    this.moved(w);
  }

  /** Stops watching `w` (it will not expire; a no-op when it is not watched). */
  delete(w: Watch): void {
    this.#watches.remove(w.dueLink);
  }

  /** Tells the sweep that `w.due` moved earlier (moving it later needs no call). */
  moved(w: Watch): void {
    if (w.due >= this.#armedAt) return;
    const slack = Math.max(1, (w.due - this.now()) / 16);
    if (w.due < this.#armedAt - slack) this.#arm(w.due);
  }

  /** Clears the timer (watches still in the set no longer expire until the next `add`). */
  stop(): void {
    this.#disarm();
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  #arm(at: number): void {
    this.#disarm();
    if (!Number.isFinite(at)) return;
    this.#armedAt = at;
    this.#timer = this.#timers.setTimeout(() => this.#sweep(), Math.max(0, Math.ceil(at - this.now())));
  }

  #sweep(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = this.now();
    let expired: Watch[] | undefined;
    let next = Infinity;
    for (let link = this.#watches.head; link !== undefined;) {
      const after = link.next;
      const w = link.owner;
      if (w.due <= now) {
        this.#watches.remove(link);
        (expired ??= []).push(w);
      } else if (w.due < next) next = w.due;
      link = after;
    }
    this.#arm(next);
    if (expired) { for (const w of expired) w.expire(); }
  }
}
