/**
 * Token bucket: the bucket holds up to `capacity` tokens (the burst) and refills continuously at
 * `rate` tokens per second; a request of cost `c` passes when `c` tokens are there and takes them.
 *
 * Warm-up scales the refill rate by the ramp, and a fresh or re-warmed bucket holds only
 * `capacity × fraction` tokens, so a recovering instance gets neither the full burst nor the full
 * rate at once. The ceiling stays `capacity` throughout.
 *
 * @module
 */

import { Bucket, type BucketState } from "./bucket.ts";
import { EPSILON, type LimitParams, type LimitStepper, validateParams } from "./stepper.ts";

/** State of one token bucket. */
export interface TokenBucketState extends BucketState<"tb"> {
  /** Tokens in the bucket at `t`. */
  readonly tokens: number;
}

/** Tokens refill up to the capacity; requests take them. */
class TokenBucket extends Bucket<TokenBucketState> {
  readonly name = "token-bucket";
  protected readonly tag = "tb";
  protected readonly field = "tokens";

  protected initial(fraction: number): number {
    return this.capacity * fraction;
  }

  protected make(ws: number, t: number, tokens: number): TokenBucketState {
    return { a: "tb", ws, t, tokens };
  }

  protected clamp(tokens: number): number {
    return Math.min(this.capacity, tokens);
  }

  protected amount(s: TokenBucketState): number {
    return s.tokens;
  }

  protected elapse(tokens: number, units: number): number {
    return Math.min(this.capacity, tokens + units);
  }

  protected fits(tokens: number, cost: number): boolean {
    return cost <= tokens + EPSILON;
  }

  protected admit(tokens: number, cost: number): number {
    return Math.max(0, tokens - cost);
  }

  protected room(tokens: number): number {
    return tokens;
  }

  protected shortfall(tokens: number, cost: number): number {
    return cost > this.capacity + EPSILON ? Infinity : cost - tokens;
  }

  protected rested(tokens: number): boolean {
    return tokens >= this.capacity - EPSILON;
  }

  protected tighter(a: number, b: number): number {
    return Math.min(a, b);
  }

  /** Tokens may go negative (a debt the refill pays back first), down to −capacity. */
  protected charge(tokens: number, delta: number): number {
    return Math.min(this.capacity, Math.max(-this.capacity, tokens - delta));
  }
}

/**
 * Creates the token-bucket step functions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTokenBucket } from "./token_bucket.ts";
 * const tb = createTokenBucket({ capacity: 2, rate: 1, windowMs: 1000 });
 * let s = tb.init(0);
 * let d;
 * [s, d] = tb.step(s, 0, 1); // 1 left
 * [s, d] = tb.step(s, 0, 1); // empty
 * [s, d] = tb.step(s, 0, 1);
 * assert(!d.allowed && d.retryAfterMs === 1000);
 * ```
 */
export function createTokenBucket(params: LimitParams): LimitStepper<TokenBucketState> {
  return new TokenBucket(validateParams("token bucket", params, { rate: true }));
}
