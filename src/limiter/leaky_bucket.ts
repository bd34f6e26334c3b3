/**
 * Leaky bucket as a meter (GCRA's continuous form): each admitted request pours its cost into a
 * bucket of size `capacity` that drains continuously at `rate` per second; a request passes when
 * its cost still fits above the current level. No queue: a request that does not fit is denied
 * with the exact wait until it would.
 *
 * Warm-up scales the drain rate by the ramp, and a fresh or re-warmed bucket starts
 * `capacity × (1 − fraction)` full, so only the ramp's share of the burst is available at first.
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
  validateParams,
  whole,
} from "./stepper.ts";
import { warmFraction, warmIntegral, warmTimeForArea } from "./warm_up.ts";

/** State of one leaky bucket. */
export interface LeakyBucketState {
  /** Algorithm tag. */
  readonly a: "lb";
  /** When the warm-up ramp began. */
  readonly ws: number;
  /** When `level` was last brought up to date. */
  readonly t: number;
  /** Water in the bucket at `t`, in [0, capacity]. */
  readonly level: number;
}

/**
 * Creates the leaky-bucket step functions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLeakyBucket } from "./leaky_bucket.ts";
 * const lb = createLeakyBucket({ capacity: 1, rate: 4, windowMs: 1000 });
 * let s = lb.init(0);
 * let d;
 * [s, d] = lb.step(s, 0, 1);
 * assert(d.allowed);
 * [s, d] = lb.step(s, 0, 1);
 * assert(!d.allowed && d.retryAfterMs === 250);
 * ```
 */
export function createLeakyBucket(params: LimitParams): LimitStepper<LeakyBucketState> {
  const p = validateParams("leaky bucket", params, { rate: true });
  const capacity = p.capacity;
  const warmUp = p.warmUp;
  const perMs = p.rate / 1000;

  const drain = (s: LeakyBucketState, now: number): LeakyBucketState => {
    if (now <= s.t) return s;
    const level = Math.max(0, s.level - perMs * warmIntegral(warmUp, s.ws, s.t, now));
    return { a: "lb", ws: s.ws, t: now, level };
  };

  /** Ms from `now` until the level has fallen to `target` (times relative to `now`). */
  const until = (s: LeakyBucketState, now: number, target: number): number =>
    target < -EPSILON
      ? Infinity
      : ceilMs(warmTimeForArea(warmUp, s.ws - now, Math.max(0, s.t - now), (s.level - target) / perMs));

  const step = (state: LeakyBucketState, now: number, cost: number): [LeakyBucketState, Decision] => {
    const s = drain(state, now);
    if (s.level + cost <= capacity + EPSILON) {
      const next: LeakyBucketState = { a: "lb", ws: s.ws, t: s.t, level: Math.min(capacity, s.level + cost) };
      return [next, allowed(capacity, whole(capacity - next.level), until(next, now, 0))];
    }
    return [s, denied(capacity, whole(capacity - s.level), until(s, now, capacity - cost), until(s, now, 0))];
  };

  return {
    name: "leaky-bucket",
    params: p,
    init(now, warmStart = now) {
      return { a: "lb", ws: warmStart, t: now, level: capacity * (1 - warmFraction(warmUp, warmStart, now)) };
    },
    step,
    peek: (state, now, cost) => step(state, now, cost)[1],
    rewarm(state, now) {
      const s = drain(state, now);
      const floor = capacity * (1 - warmFraction(warmUp, now, now));
      return { a: "lb", ws: now, t: s.t, level: Math.max(s.level, floor) };
    },
    isIdle(state, now) {
      return warmFraction(warmUp, state.ws, now) === 1 && drain(state, now).level <= EPSILON;
    },
    parse(value) {
      if (typeof value !== "object" || value === null) return undefined;
      const v = value as Record<string, unknown>;
      if (v.a !== "lb" || !isFiniteNumber(v.ws) || !isFiniteNumber(v.t)) return undefined;
      if (!isFiniteNumber(v.level) || v.level < 0) return undefined;
      return { a: "lb", ws: v.ws, t: v.t, level: v.level };
    },
  };
}
