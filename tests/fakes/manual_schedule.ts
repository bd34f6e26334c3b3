/**
 * A manual {@linkcode Schedule} for tests: timers run only when the test moves time, so "nothing
 * happened" is checked after a known number of timer runs instead of after a sleep.
 *
 * @module
 */

import type { Schedule } from "../../src/types.ts";

/** A schedule driven by the test. */
export interface ManualSchedule {
  /** Pass this where a `schedule` is injected. */
  readonly schedule: Schedule;
  /** The current time (starts at 0). */
  now(): number;
  /** Delays, from now, of the timers waiting, soonest first. */
  pending(): number[];
  /** Moves time forward by `ms`, running every timer that falls due, in due order. */
  advance(ms: number): void;
  /**
   * Moves time forward by `ms` without running timers, as a blocked event loop does; what fell
   * due runs late, at the current time, on the next `advance`.
   */
  jump(ms: number): void;
  /** Moves time to the next timer and runs it; false when none is waiting. */
  runNext(): boolean;
  /** Resolves the next time something is scheduled (a timer that re-arms itself did its work). */
  scheduled(): Promise<number>;
}

/**
 * Creates a manual schedule.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { manualSchedule } from "./manual_schedule.ts";
 * const t = manualSchedule();
 * let ran = 0;
 * t.schedule(() => ran++, 100);
 * t.advance(99);
 * assert.equal(ran, 0);
 * t.advance(1);
 * assert.equal(ran, 1);
 * ```
 */
export function manualSchedule(): ManualSchedule {
  let now = 0;
  let seq = 0;
  let timers: { at: number; seq: number; fn: () => void }[] = [];
  const waiters: ((ms: number) => void)[] = [];
  const due = () => timers.sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
  const runOne = () => {
    const next = due();
    timers = timers.filter((t) => t !== next);
    now = Math.max(now, next.at);
    next.fn();
  };
  return {
    schedule(fn, ms) {
      const timer = { at: now + Math.max(0, ms), seq: seq++, fn };
      timers.push(timer);
      for (const w of waiters.splice(0)) w(ms);
      return () => {
        timers = timers.filter((t) => t !== timer);
      };
    },
    now: () => now,
    pending: () => timers.map((t) => t.at - now).sort((a, b) => a - b),
    advance(ms) {
      const end = now + ms;
      while (timers.length > 0 && due().at <= end) runOne();
      now = end;
    },
    jump(ms) {
      now += ms;
    },
    runNext() {
      if (timers.length === 0) return false;
      runOne();
      return true;
    },
    scheduled: () => new Promise((resolve) => waiters.push(resolve)),
  };
}

/** A clock alone, moved by hand with `advance(ms)`; it starts at a plausible epoch time. */
export function manualClock(start = 1_700_000_000_000): (() => number) & { advance(ms: number): void } {
  let now = start;
  const clock = () => now;
  clock.advance = (ms: number) => void (now += ms);
  return clock;
}
