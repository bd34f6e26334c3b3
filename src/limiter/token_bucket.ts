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

/** State of one token bucket (short keys: many of these are kept and persisted). */
export interface TokenBucketState {
  /** Algorithm tag, so a state of another algorithm is never mistaken for this one. */
  readonly a: "tb";
  /** When the warm-up ramp began. */
  readonly ws: number;
  /** When `tokens` was last brought up to date. */
  readonly t: number;
  /** Tokens in the bucket at `t`. */
  readonly tokens: number;
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
  const p = validateParams("token bucket", params, { rate: true });
  const capacity = p.capacity;
  const warmUp = p.warmUp;
  const perMs = p.rate / 1000;

  const refill = (s: TokenBucketState, now: number): TokenBucketState => {
    // A clock that went backwards earns nothing; the capacity may have shrunk since a restore.
    if (now <= s.t) return s.tokens > capacity ? { a: "tb", ws: s.ws, t: s.t, tokens: capacity } : s;
    const tokens = Math.min(capacity, s.tokens + perMs * warmIntegral(warmUp, s.ws, s.t, now));
    return { a: "tb", ws: s.ws, t: now, tokens };
  };

  /** Ms from `now` until the bucket holds `target` tokens, starting from `tokens` (times relative to `now`). */
  const until = (s: TokenBucketState, now: number, tokens: number, target: number): number =>
    target > capacity + EPSILON
      ? Infinity
      : ceilMs(warmTimeForArea(warmUp, s.ws - now, Math.max(0, s.t - now), (target - tokens) / perMs));

  const step = (state: TokenBucketState, now: number, cost: number): [TokenBucketState, Decision] => {
    const s = refill(state, now);
    if (cost <= s.tokens + EPSILON) {
      const tokens = Math.max(0, s.tokens - cost);
      const next: TokenBucketState = { a: "tb", ws: s.ws, t: s.t, tokens };
      return [next, allowed(capacity, whole(tokens), until(s, now, tokens, capacity))];
    }
    return [
      s,
      denied(capacity, whole(s.tokens), until(s, now, s.tokens, cost), until(s, now, s.tokens, capacity)),
    ];
  };

  return {
    name: "token-bucket",
    params: p,
    init(now, warmStart = now) {
      return { a: "tb", ws: warmStart, t: now, tokens: capacity * warmFraction(warmUp, warmStart, now) };
    },
    step,
    peek: (state, now, cost) => step(state, now, cost)[1],
    rewarm(state, now) {
      const s = refill(state, now);
      return {
        a: "tb",
        ws: now,
        t: s.t,
        tokens: Math.min(s.tokens, capacity * warmFraction(warmUp, now, now)),
      };
    },
    isIdle(state, now) {
      return warmFraction(warmUp, state.ws, now) === 1 && refill(state, now).tokens >= capacity - EPSILON;
    },
    parse(value) {
      if (typeof value !== "object" || value === null) return undefined;
      const v = value as Record<string, unknown>;
      if (v.a !== "tb" || !isFiniteNumber(v.ws) || !isFiniteNumber(v.t)) return undefined;
      if (!isFiniteNumber(v.tokens) || v.tokens < 0) return undefined;
      return { a: "tb", ws: v.ws, t: v.t, tokens: v.tokens };
    },
  };
}
