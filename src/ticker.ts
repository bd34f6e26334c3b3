/**
 * A fixed-rate ticker: calls `onTick` at once, then on the grid `start + k × intervalMs`. The
 * health prober and the load-signal scraper both run their rounds on one; what a tick does (skip a
 * busy round, skip a busy target) stays theirs.
 *
 * - The grid is kept by the injected clock, not by chaining delays, so a slow tick does not drift
 *   the schedule.
 * - A tick that fell behind (event loop blocked, clock jumped) fires once, late; the missed ticks
 *   are dropped and the next one lands back on the grid.
 * - `stop()` cancels the pending timer; no tick runs after it.
 *
 * @module
 */

import type { Clock, Schedule } from "./types.ts";

/** Timing options of a job that runs on a {@linkcode Ticker}. */
export interface TickerOptions {
  /** Time source for the schedule. */
  readonly clock: Clock;
  /** Milliseconds between ticks (> 0). */
  readonly intervalMs: number;
  /**
   * Runs `fn` once after `ms` and returns a function that cancels it; injected by tests to drive
   * the schedule without real time.
   *
   * @default {timeoutSchedule}
   */
  readonly schedule?: Schedule;
}

/** A running or idle ticker. */
export interface Ticker {
  /** Ticks now, then every `intervalMs`. Does nothing when already started. */
  start(): void;
  /** Cancels the next tick. Safe to call more than once. */
  stop(): void;
  /** Whether the schedule is active. */
  readonly started: boolean;
}

/** The default {@linkcode Schedule}: `setTimeout`, looked up on use (never at import time). */
export const timeoutSchedule: Schedule = (fn, ms) => {
  const id = setTimeout(fn, ms);
  return () => clearTimeout(id);
};

/**
 * Checks the timing options of `what` (a std-style message names it): `clock` and `schedule`
 * functions, `intervalMs` a finite number > 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTickerOptions } from "./ticker.ts";
 * assert.throws(
 *   () => checkTickerOptions("prober", { clock: () => 0, intervalMs: 0 }),
 *   new RangeError('Cannot create prober: "intervalMs" must be a finite number > 0, received 0'),
 * );
 * ```
 */
export function checkTickerOptions(what: string, options: TickerOptions): void {
  for (const name of ["clock", "schedule"] as const) {
    const value = options[name];
    if (typeof value === "function" || (name === "schedule" && value === undefined)) continue;
    throw new TypeError(`Cannot create ${what}: "${name}" must be a function, received ${typeof value}`);
  }
  const ms = options.intervalMs;
  if (typeof ms !== "number" || !(ms > 0) || !Number.isFinite(ms)) {
    throw new RangeError(`Cannot create ${what}: "intervalMs" must be a finite number > 0, received ${ms}`);
  }
}

/**
 * Creates a stopped ticker that calls `onTick` at a fixed rate once started. `onTick` runs inside a
 * timer callback and must not throw (the jobs on a ticker report their errors themselves).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTicker } from "./ticker.ts";
 *
 * let now = 0;
 * const timers: (() => void)[] = [];
 * const ticks: number[] = [];
 * const ticker = createTicker({
 *   clock: () => now,
 *   intervalMs: 1_000,
 *   schedule: (fn) => (timers.push(fn), () => {}),
 *   onTick: () => ticks.push(now),
 * });
 * ticker.start();
 * now = 1_000;
 * timers.shift()?.();
 * ticker.stop();
 * assert.deepEqual(ticks, [0, 1_000]);
 * ```
 */
export function createTicker(options: TickerOptions & { readonly onTick: () => void }): Ticker {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot create ticker: options must be an object, received ${options}`);
  }
  checkTickerOptions("ticker", options);
  if (typeof options.onTick !== "function") {
    throw new TypeError(
      `Cannot create ticker: "onTick" must be a function, received ${typeof options.onTick}`,
    );
  }
  const { clock, intervalMs, onTick } = options;
  const schedule = options.schedule ?? timeoutSchedule;
  let started = false;
  let nextDue = 0;
  let cancelTimer: (() => void) | undefined;

  function tick(): void {
    cancelTimer = undefined;
    if (!started) return;
    onTick();
    if (!started) return; // onTick stopped the ticker
    const now = clock();
    nextDue += intervalMs;
    // Fell behind (event loop blocked, clock jumped): drop the missed ticks, keep the phase.
    if (nextDue <= now) nextDue += Math.ceil((now - nextDue + 1) / intervalMs) * intervalMs;
    cancelTimer = schedule(tick, nextDue - now);
  }

  return {
    start() {
      if (started) return;
      started = true;
      nextDue = clock();
      tick();
    },
    stop() {
      started = false;
      cancelTimer?.();
      cancelTimer = undefined;
    },
    get started() {
      return started;
    },
  };
}
