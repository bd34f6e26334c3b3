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

import { Bucket, type BucketState } from "./bucket.ts";
import { EPSILON, type LimitParams, type LimitStepper, validateParams } from "./stepper.ts";

/** State of one leaky bucket. */
export interface LeakyBucketState extends BucketState<"lb"> {
  /** Water in the bucket at `t`, in [0, capacity]. */
  readonly level: number;
}

/** The level leaks down to 0; requests pour into it. */
class LeakyBucket extends Bucket<LeakyBucketState> {
  readonly name = "leaky-bucket";
  protected readonly tag = "lb";
  protected readonly field = "level";

  protected initial(fraction: number): number {
    return this.capacity * (1 - fraction);
  }

  protected make(ws: number, t: number, level: number): LeakyBucketState {
    return { a: "lb", ws, t, level };
  }

  /** A level above a shrunk capacity is kept: it only admits less until it has leaked. */
  protected clamp(level: number): number {
    return level;
  }

  protected amount(s: LeakyBucketState): number {
    return s.level;
  }

  protected elapse(level: number, units: number): number {
    return Math.max(0, level - units);
  }

  protected fits(level: number, cost: number): boolean {
    return level + cost <= this.capacity + EPSILON;
  }

  protected admit(level: number, cost: number): number {
    return Math.min(this.capacity, level + cost);
  }

  protected room(level: number): number {
    return this.capacity - level;
  }

  /** How far the level must fall to `capacity − cost`. */
  protected shortfall(level: number, cost: number): number {
    const target = this.capacity - cost;
    return target < -EPSILON ? Infinity : level - target;
  }

  /** The level may rise above the capacity (a debt that must leak out first), up to 2 × capacity. */
  protected charge(level: number, delta: number): number {
    return Math.max(0, Math.min(2 * this.capacity, level + delta));
  }

  protected rested(level: number): boolean {
    return level <= EPSILON;
  }

  protected tighter(a: number, b: number): number {
    return Math.max(a, b);
  }
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
  return new LeakyBucket(validateParams("leaky bucket", params, { rate: true }));
}
