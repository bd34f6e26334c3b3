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
 * The watches form an intrusive doubly-linked list (the links live on the watch itself): adding and
 * removing one is four assignments, with no allocation and no hash table to grow, shrink and
 * rehash as requests come and go (a `Set` here cost ~4 % of the in-process request path).
 *
 * When the timer fires, the expired watches are removed and told, and the timer is re-armed for
 * the next. The timer is unref'd (it never keeps the process alive); {@linkcode DeadlineSweep.stop}
 * clears it when the gateway closes. Deadlines are on the sweep's own monotonic clock
 * (`performance.now()` unless injected): real time, like the socket timeouts they stand for.
 *
 * @module
 */

/** Something with a deadline. */
export interface Watch {
  /** When it expires, on the sweep's clock (`Infinity`: not yet). May be moved later at will. */
  due: number;
  /** Called once when `due` has passed; the watch is already removed. */
  expire(): void;
  /**
   * The sweep's links, owned by it: declare them `undefined` in a class (one shape for all its
   * objects) and never set them.
   */
  prevDue?: Watch | undefined;
  /** See {@linkcode Watch.prevDue}; `undefined` while the watch is in no sweep. */
  nextDue?: Watch | undefined;
}

/** The list's anchor: the list is circular through it, so links in the list are never `undefined`. */
function anchor(): Watch {
  const a: Watch = { due: Infinity, expire() {}, prevDue: undefined, nextDue: undefined };
  a.prevDue = a.nextDue = a;
  return a;
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
 * import { DeadlineSweep } from "./deadlines.ts";
 * const sweep = new DeadlineSweep();
 * const attempt = { due: sweep.now() + 30_000, expire: () => console.log("timed out") };
 * sweep.add(attempt);
 * attempt.due = sweep.now() + 30_000; // a chunk arrived: later, no call needed
 * sweep.delete(attempt); // the body ended in time
 * sweep.stop(); // the gateway closes
 * assert(sweep.size === 0);
 * ```
 */
export class DeadlineSweep {
  readonly #anchor: Watch = anchor();
  #size = 0;
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
    return this.#size;
  }

  /** Starts watching `w` (a no-op when it is watched already). */
  add(w: Watch): void {
    if (w.nextDue === undefined) {
      const a = this.#anchor;
      const last = a.prevDue!;
      w.prevDue = last;
      w.nextDue = a;
      last.nextDue = w;
      a.prevDue = w;
      this.#size++;
    }
    this.moved(w);
  }

  /** Stops watching `w` (it will not expire; a no-op when it is not watched). */
  delete(w: Watch): void {
    const next = w.nextDue;
    if (next === undefined) return;
    const prev = w.prevDue!;
    prev.nextDue = next;
    next.prevDue = prev;
    w.prevDue = w.nextDue = undefined;
    this.#size--;
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
    const a = this.#anchor;
    let expired: Watch[] | undefined;
    let next = Infinity;
    for (let w = a.nextDue!; w !== a;) {
      const after = w.nextDue!;
      if (w.due <= now) {
        this.delete(w);
        (expired ??= []).push(w);
      } else if (w.due < next) next = w.due;
      w = after;
    }
    this.#arm(next);
    if (expired) { for (const w of expired) w.expire(); }
  }
}
