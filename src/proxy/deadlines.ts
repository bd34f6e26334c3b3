/**
 * One timer for every attempt's deadlines. Each attempt has up to three (headers, idle gap
 * between chunks, total); arming and clearing two or three `setTimeout`s per attempt cost more
 * than the limiter, balancer and breaker together (issue 7's profile). Here an attempt is a
 * {@linkcode Watch} in a set, and one timer is armed for the earliest deadline: adding a watch due
 * later than the armed timer (the usual case: every attempt has the same budgets) costs a set
 * insertion, and moving a deadline later (idle, on every chunk) costs an assignment. When the
 * timer fires, the expired watches are removed and told, and the timer is re-armed for the next.
 *
 * Deadlines are on the sweep's own monotonic clock (`performance.now()` unless injected): they are
 * real time, like the socket timeouts they stand for.
 *
 * @module
 */

/** Something with a deadline. */
export interface Watch {
  /** When it expires, on the sweep's clock (`Infinity`: not yet). May be moved later at will. */
  due: number;
  /** Called once when `due` has passed; the watch is already removed. */
  expire(): void;
}

/** Timer functions, injectable for tests. */
export interface TimerApi {
  readonly now: () => number;
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout: (id: unknown) => void;
}

const REAL_TIMERS: TimerApi = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/**
 * A set of watches served by one timer. The timer exists only while a watch with a finite
 * deadline does, so an idle gateway (or a finished test) holds no timer.
 *
 * @example
 * ```ts
 * import { DeadlineSweep } from "./deadlines.ts";
 * const sweep = new DeadlineSweep();
 * const fired = Promise.withResolvers<string>();
 * sweep.add({ due: sweep.now() + 5, expire: () => fired.resolve("expired") });
 * console.assert((await fired.promise) === "expired" && sweep.size === 0);
 * ```
 */
export class DeadlineSweep {
  readonly #watches = new Set<Watch>();
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

  /** Starts watching `w`. */
  add(w: Watch): void {
    this.#watches.add(w);
    this.moved(w);
  }

  /** Stops watching `w` (it will not expire). */
  delete(w: Watch): void {
    this.#watches.delete(w);
    if (this.#watches.size === 0) this.#disarm();
  }

  /** Tells the sweep that `w.due` moved earlier (moving it later needs no call). */
  moved(w: Watch): void {
    if (w.due < this.#armedAt) this.#arm(w.due);
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
    const expired: Watch[] = [];
    let next = Infinity;
    for (const w of this.#watches) {
      if (w.due <= now) expired.push(w);
      else if (w.due < next) next = w.due;
    }
    for (const w of expired) this.#watches.delete(w);
    this.#arm(next);
    for (const w of expired) w.expire();
  }
}

/** The process-wide sweep the request path uses. */
export const DEADLINES: DeadlineSweep = new DeadlineSweep();
