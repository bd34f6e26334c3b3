/**
 * Sliding window (a sliding log): at every instant `t`, the cost admitted during `(t − windowMs, t]`
 * plus the new request's cost may not exceed `capacity`. This is exact — any span of `windowMs`
 * holds at most `capacity`, so the 2× burst around a fixed-window boundary cannot happen — and so
 * is `retryAfterMs`: the wait until enough logged cost has slid out.
 *
 * The log keeps one entry per distinct clock reading with admitted cost (requests at the same ms
 * are merged), so with a ms clock a key holds at most `min(capacity / smallest cost, windowMs)`
 * entries. That is fine for the per-client limits a gateway sets; for very large capacities
 * prefer the token bucket.
 *
 * Warm-up scales the capacity by the ramp's value at the moment of the request.
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

/** State of one sliding window. */
export interface SlidingWindowState extends TaggedState<"sw"> {
  /**
   * Admitted cost as a flat list `[time0, cost0, time1, cost1, …]`, times strictly ascending
   * (flat numbers keep the state small in memory and in snapshots).
   */
  readonly log: readonly number[];
}

/**
 * Creates the sliding-window step functions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSlidingWindow } from "./sliding_window.ts";
 * const sw = createSlidingWindow({ capacity: 2, rate: 1, windowMs: 1000 });
 * let s = sw.init(0);
 * let d;
 * [s, d] = sw.step(s, 100, 1);
 * [s, d] = sw.step(s, 900, 1);
 * [s, d] = sw.step(s, 1000, 1); // both still inside (0, 1000]
 * assert(!d.allowed && d.retryAfterMs === 100); // the entry of t=100 leaves at 1100
 * ```
 */
export function createSlidingWindow(params: LimitParams): LimitStepper<SlidingWindowState> {
  const p = validateParams("sliding window", params, { windowMs: true });
  const { capacity, windowMs, warmUp } = p;

  /** Drops entries that have slid out: an entry at `t0` counts while `now < t0 + windowMs`. */
  const prune = (log: readonly number[], now: number): readonly number[] => {
    let i = 0;
    while (i < log.length && log[i] <= now - windowMs) i += 2;
    return i === 0 ? log : log.slice(i);
  };

  const total = (log: readonly number[]): number => {
    let sum = 0;
    for (let i = 1; i < log.length; i += 2) sum += log[i];
    return sum;
  };

  const resetIn = (log: readonly number[], now: number): number =>
    log.length === 0 ? 0 : ceilMs(log[log.length - 2] + windowMs - now);

  /** Ms until a request of `cost` fits, walking the instants at which logged entries slide out. */
  const wait = (ws: number, log: readonly number[], now: number, used: number, cost: number): number => {
    if (cost > capacity + EPSILON) return Infinity;
    // Relative to `now`; within each span between two expiries the logged cost is constant and
    // only the warm-up ramp can make room.
    const capacityAt = (from: number, need: number) =>
      Math.max(from, warmTimeForFraction(warmUp, ws - now, need / capacity));
    let from = 0;
    for (let i = 0; i < log.length; i += 2) {
      const expiry = log[i] + windowMs - now;
      const at = capacityAt(from, used + cost);
      if (at < expiry) return ceilMs(at);
      from = expiry;
      used -= log[i + 1];
    }
    return ceilMs(capacityAt(from, cost));
  };

  const step = (state: SlidingWindowState, now: number, cost: number): [SlidingWindowState, Decision] => {
    const log = prune(state.log, now);
    const used = total(log);
    const cap = capacity * warmFraction(warmUp, state.ws, now);
    if (used + cost > cap + EPSILON) {
      const kept: SlidingWindowState = log === state.log ? state : { a: "sw", ws: state.ws, log };
      return [
        kept,
        denied(capacity, whole(cap - used), wait(state.ws, log, now, used, cost), resetIn(log, now)),
      ];
    }
    let next = log;
    if (cost > 0) {
      const last = log.length === 0 ? -Infinity : log[log.length - 2];
      if (last >= now) {
        // Same ms (or a clock that went backwards): merge into the last entry, which keeps the
        // log ascending and only ever makes the entry leave later, never earlier.
        const merged = log.slice();
        merged[merged.length - 1] += cost;
        next = merged;
      } else {
        next = log.concat(now, cost);
      }
    }
    const s: SlidingWindowState = { a: "sw", ws: state.ws, log: next };
    return [s, allowed(capacity, whole(cap - used - cost), resetIn(next, now))];
  };

  /** More cost is logged at `now`; a refund takes cost back from the newest entries first. */
  const adjust = (state: SlidingWindowState, now: number, delta: number): SlidingWindowState => {
    const log = prune(state.log, now).slice();
    if (delta > 0) {
      const room = 2 * capacity - total(log);
      const add = Math.min(delta, Math.max(0, room));
      if (add <= 0) return { a: "sw", ws: state.ws, log };
      if (log.length > 0 && log[log.length - 2] >= now) log[log.length - 1] += add;
      else log.push(now, add);
      return { a: "sw", ws: state.ws, log };
    }
    let refund = -delta;
    while (refund > 0 && log.length > 0) {
      const take = Math.min(refund, log[log.length - 1]);
      log[log.length - 1] -= take;
      refund -= take;
      if (log[log.length - 1] <= EPSILON) log.length -= 2;
    }
    return { a: "sw", ws: state.ws, log };
  };

  return {
    name: "sliding-window",
    adjust,
    params: p,
    init: (_now, warmStart = _now) => ({ a: "sw", ws: warmStart, log: [] }),
    step,
    peek: (state, now, cost) => step(state, now, cost)[1],
    rewarm: (state, now) => ({ a: "sw", ws: now, log: prune(state.log, now) }),
    isIdle: (state, now) => warmFraction(warmUp, state.ws, now) === 1 && prune(state.log, now).length === 0,
    parse(value) {
      const v = taggedRecord(value, "sw");
      if (v === undefined || !Array.isArray(v.log) || v.log.length % 2 !== 0) return undefined;
      const log: number[] = v.log;
      for (let i = 0; i < log.length; i += 2) {
        const ok = isFiniteNumber(log[i]) && isFiniteNumber(log[i + 1]) && log[i + 1] > 0 &&
          (i === 0 || log[i] > log[i - 2]);
        if (!ok) return undefined;
      }
      return { a: "sw", ws: v.ws, log: log.slice() };
    },
  };
}
