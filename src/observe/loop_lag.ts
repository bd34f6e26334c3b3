/**
 * How late the event loop runs: a timer asks to fire every `intervalMs`, and how much later than
 * asked it fired is the time the loop spent on something else (a long synchronous task, a GC
 * pause, a starved core). The worst lateness of the last `windowMs` is kept, in one-second
 * buckets, so that any number of scrapers read the same value.
 *
 * One sample timer costs nothing measurable (10 wake-ups a second by default); it is unref'd, so
 * it never keeps a process alive.
 *
 * @module
 */

import type { Clock, Schedule } from "../types.ts";

/** Options of {@linkcode createLoopLag}. */
export interface LoopLagOptions {
  readonly clock: Clock;
  /** Runs the sample timer (tests drive it by hand). @default an unref'd `setTimeout` */
  readonly schedule?: Schedule;
  /** Milliseconds between samples. @default 100 */
  readonly intervalMs?: number;
  /** How far back {@linkcode LoopLag.maxMs} looks, ms (whole seconds). @default 10000 */
  readonly windowMs?: number;
}

/** A running (or stopped) lag monitor. */
export interface LoopLag {
  /** Starts sampling; does nothing when started. */
  start(): void;
  /** Stops sampling (no timer is left); safe to call more than once. */
  stop(): void;
  /**
   * The longest the sample timer fired late within the window, ms (0 when it never was, or when
   * stopped) — a timer that is overdue now counts with its lateness so far.
   */
  maxMs(): number;
}

const unrefSchedule: Schedule = (fn, ms) => {
  const id = setTimeout(fn, ms);
  Deno.unrefTimer(id);
  return () => clearTimeout(id);
};

/**
 * A lag monitor on `clock`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLoopLag } from "./loop_lag.ts";
 * let now = 0;
 * let fire = () => {};
 * const lag = createLoopLag({ clock: () => now, schedule: (fn) => ((fire = fn), () => {}) });
 * lag.start();
 * now = 350; // the loop was busy: the 100 ms timer fires 250 ms late
 * fire();
 * assert.equal(lag.maxMs(), 250);
 * ```
 */
export function createLoopLag(options: LoopLagOptions): LoopLag {
  const { clock, schedule = unrefSchedule, intervalMs = 100, windowMs = 10_000 } = options ?? {};
  const fail = (what: string, received: unknown) =>
    new RangeError(`Cannot create loop lag monitor: ${what}, received ${received}`);
  if (typeof clock !== "function") {
    throw new TypeError(
      `Cannot create loop lag monitor: "clock" must be a function, received ${typeof clock}`,
    );
  }
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) {
    throw fail('"intervalMs" must be a finite number > 0', intervalMs);
  }
  if (!(Number.isFinite(windowMs) && windowMs >= 1000)) {
    throw fail('"windowMs" must be a finite number ≥ 1000', windowMs);
  }
  const slots = Math.max(1, Math.ceil(windowMs / 1000));
  // Bucket i holds the worst lateness of second `seconds[i]` (seconds % slots === i).
  const seconds = new Float64Array(slots).fill(-Infinity);
  const worst = new Float64Array(slots);
  let due = 0;
  let cancel: (() => void) | undefined;

  const record = (now: number, lateMs: number) => {
    const second = Math.floor(now / 1000);
    const i = ((second % slots) + slots) % slots;
    if (seconds[i] !== second) {
      seconds[i] = second;
      worst[i] = 0;
    }
    if (lateMs > worst[i]) worst[i] = lateMs;
  };

  const arm = (now: number) => {
    due = now + intervalMs;
    cancel = schedule(tick, intervalMs);
  };

  function tick() {
    const now = clock();
    record(now, Math.max(0, now - due));
    arm(now);
  }

  return {
    start() {
      if (cancel === undefined) arm(clock());
    },
    stop() {
      cancel?.();
      cancel = undefined;
      seconds.fill(-Infinity);
    },
    maxMs() {
      if (cancel === undefined) return 0;
      const now = clock();
      const oldest = Math.floor(now / 1000) - slots + 1;
      let max = Math.max(0, now - due);
      for (let i = 0; i < slots; i++) {
        if (seconds[i] >= oldest && worst[i] > max) max = worst[i];
      }
      return max;
    },
  };
}
