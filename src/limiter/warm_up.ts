/**
 * The warm-up ramp shared by every limiter: after `start`, the effective rate (buckets) or window
 * capacity (windows) is `fraction(t)` times the configured one, rising linearly from
 * `initialFraction` to 1 over `periodMs`, then staying at 1. Before `start` (a clock that went
 * backwards, or a restored state from a skewed host) it stays at `initialFraction`.
 *
 * The buckets need the area under the ramp (tokens earned between two instants) and its inverse
 * (when will enough tokens have been earned); the windows need the inverse of the ramp itself.
 * All three are closed forms so that `retryAfterMs` is exact rather than sampled.
 *
 * @module
 */

/** The `warmUp` block of a `RateLimitConfig` (same shape). */
export interface WarmUp {
  /** How long the ramp lasts, ms; 0 disables warm-up. */
  readonly periodMs: number;
  /** Fraction of the full rate at the start of the ramp, in (0, 1]. */
  readonly initialFraction: number;
}

function active(w: WarmUp | undefined): w is WarmUp {
  return w !== undefined && w.periodMs > 0 && w.initialFraction < 1;
}

/**
 * The ramp's value at `t` for a ramp that began at `start`: in [initialFraction, 1].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { warmFraction } from "./warm_up.ts";
 * assert(warmFraction({ periodMs: 1000, initialFraction: 0.5 }, 0, 500) === 0.75);
 * ```
 */
export function warmFraction(w: WarmUp | undefined, start: number, t: number): number {
  if (!active(w) || t >= start + w.periodMs) return 1;
  if (t <= start) return w.initialFraction;
  return w.initialFraction + (1 - w.initialFraction) * (t - start) / w.periodMs;
}

/**
 * Area under the ramp between `a` and `b` (ms): what a rate of 1/ms earns over that span.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { warmIntegral } from "./warm_up.ts";
 * // The average of 0.5 and 1 over the whole 1000 ms ramp.
 * assert(warmIntegral({ periodMs: 1000, initialFraction: 0.5 }, 0, 0, 1000) === 750);
 * ```
 */
export function warmIntegral(w: WarmUp | undefined, start: number, a: number, b: number): number {
  if (b <= a) return 0;
  if (!active(w) || a >= start + w.periodMs) return b - a;
  return antiderivative(w, start, b) - antiderivative(w, start, a);
}

/** ∫ from `start` to `t` of the ramp (negative before `start`). */
function antiderivative(w: WarmUp, start: number, t: number): number {
  const fi = w.initialFraction;
  const p = w.periodMs;
  if (t <= start) return fi * (t - start);
  if (t >= start + p) return p * (1 + fi) / 2 + (t - start - p);
  const x = t - start;
  return fi * x + (1 - fi) * x * x / (2 * p);
}

/**
 * Earliest `t >= a` at which the area under the ramp since `a` reaches `amount`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { warmTimeForArea } from "./warm_up.ts";
 * assert(warmTimeForArea(undefined, 0, 100, 250) === 350);
 * ```
 */
export function warmTimeForArea(w: WarmUp | undefined, start: number, a: number, amount: number): number {
  if (amount <= 0) return a;
  if (!active(w)) return a + amount;
  const end = start + w.periodMs;
  if (a >= end) return a + amount;
  const fi = w.initialFraction;
  if (a < start) {
    const flat = fi * (start - a);
    if (amount <= flat) return a + amount / fi;
    amount -= flat;
    a = start;
  }
  const f0 = warmFraction(w, start, a);
  const ramp = (f0 + 1) / 2 * (end - a);
  if (amount > ramp) return end + (amount - ramp);
  // Solve f0·x + k·x²/2 = amount for x; this form of the quadratic root stays accurate as k → 0.
  const k = (1 - fi) / w.periodMs;
  return a + 2 * amount / (f0 + Math.sqrt(f0 * f0 + 2 * k * amount));
}

/**
 * Earliest instant at which the ramp reaches `target`: `-Infinity` when it always has,
 * `Infinity` when `target > 1` (it never will).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { warmTimeForFraction } from "./warm_up.ts";
 * assert(warmTimeForFraction({ periodMs: 1000, initialFraction: 0.5 }, 0, 0.75) === 500);
 * ```
 */
export function warmTimeForFraction(w: WarmUp | undefined, start: number, target: number): number {
  // The tolerance absorbs float noise in callers' sums (0.1 + 0.2 style) on exact-fit requests.
  if (target > 1 + 1e-12) return Infinity;
  if (!active(w) || target <= w.initialFraction) return -Infinity;
  return start + w.periodMs * (Math.min(target, 1) - w.initialFraction) / (1 - w.initialFraction);
}
