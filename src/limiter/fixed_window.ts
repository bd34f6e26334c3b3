/**
 * Fixed window: time is cut into windows `[k·windowMs, (k+1)·windowMs)` aligned to the clock's
 * epoch, and at most `capacity` cost is admitted per window. Cheap and predictable, but a client
 * may spend a full window just before a boundary and another just after it (up to 2× capacity in
 * a short span); use the sliding window where that matters.
 *
 * Warm-up scales the window capacity by the ramp's value at the moment of the request.
 *
 * @module
 */

import type { Decision } from "../types.ts";
import {
  allowed,
  ceilMs,
  denied,
  EPSILON,
  isFiniteNumber,
  type LimitParams,
  type LimitStepper,
  taggedRecord,
  type TaggedState,
  validateParams,
  whole,
} from "./stepper.ts";
import { warmFraction, warmTimeForFraction } from "./warm_up.ts";

/** State of one fixed window. */
export interface FixedWindowState extends TaggedState<"fw"> {
  /** Start of the window `count` belongs to. */
  readonly start: number;
  /** Cost admitted in that window. */
  readonly count: number;
}

/**
 * Creates the fixed-window step functions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createFixedWindow } from "./fixed_window.ts";
 * const fw = createFixedWindow({ capacity: 1, rate: 1, windowMs: 1000 });
 * let s = fw.init(250);
 * let d;
 * [s, d] = fw.step(s, 250, 1);
 * [s, d] = fw.step(s, 400, 1);
 * assert(!d.allowed && d.retryAfterMs === 600); // the next window starts at 1000
 * ```
 */
export function createFixedWindow(params: LimitParams): LimitStepper<FixedWindowState> {
  const p = validateParams("fixed window", params, { windowMs: true });
  const { capacity, windowMs, warmUp } = p;

  const roll = (s: FixedWindowState, now: number): FixedWindowState =>
    now >= s.start + windowMs
      ? { a: "fw", ws: s.ws, start: Math.floor(now / windowMs) * windowMs, count: 0 }
      : s;

  const step = (state: FixedWindowState, now: number, cost: number): [FixedWindowState, Decision] => {
    const s = roll(state, now);
    const cap = capacity * warmFraction(warmUp, s.ws, now);
    // Times below are relative to `now`: epoch-sized numbers would blur sub-ms precision.
    const end = s.start + windowMs - now;
    const resetMs = ceilMs(end);
    if (s.count + cost <= cap + EPSILON) {
      const next: FixedWindowState = { a: "fw", ws: s.ws, start: s.start, count: s.count + cost };
      return [next, allowed(capacity, whole(cap - next.count), resetMs)];
    }
    // Earliest instant from `from` on at which the ramped capacity admits `need`.
    const capacityAt = (from: number, need: number) =>
      Math.max(from, warmTimeForFraction(warmUp, s.ws - now, need / capacity));
    // Later in this window (the ramp may still rise), else in the next one, which starts empty.
    const inWindow = capacityAt(0, s.count + cost);
    const at = inWindow < end ? inWindow : capacityAt(end, cost);
    return [s, denied(capacity, whole(cap - s.count), ceilMs(at), resetMs)];
  };

  return {
    name: "fixed-window",
    params: p,
    init(now, warmStart = now) {
      return { a: "fw", ws: warmStart, start: Math.floor(now / windowMs) * windowMs, count: 0 };
    },
    step,
    peek: (state, now, cost) => step(state, now, cost)[1],
    adjust(state, now, delta) {
      const s = roll(state, now);
      return { ...s, count: Math.max(0, Math.min(2 * capacity, s.count + delta)) };
    },
    rewarm: (state, now) => ({ ...roll(state, now), ws: now }),
    isIdle: (state, now) => warmFraction(warmUp, state.ws, now) === 1 && roll(state, now).count === 0,
    parse(value) {
      const v = taggedRecord(value, "fw");
      if (v === undefined || !isFiniteNumber(v.start)) return undefined;
      if (!isFiniteNumber(v.count) || v.count < 0) return undefined;
      return { a: "fw", ws: v.ws, start: v.start, count: v.count };
    },
  };
}
