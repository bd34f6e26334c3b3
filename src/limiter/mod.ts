/**
 * Rate limiting: four algorithms as pure step functions over small states
 * (`step(state, now, cost) → [state, Decision]`), and a keyed limiter that keeps one state per
 * scope key in bounded memory.
 *
 * | algorithm        | `capacity`              | `rate`             | `windowMs` |
 * | ---------------- | ----------------------- | ------------------ | ---------- |
 * | `token-bucket`   | burst size              | refill, tokens/s   | —          |
 * | `leaky-bucket`   | bucket size             | leak, units/s      | —          |
 * | `sliding-window` | cost per any `windowMs` | —                  | length     |
 * | `fixed-window`   | cost per aligned window | —                  | length     |
 *
 * A denial is a value (`allowed: false`) with the exact `retryAfterMs`; it is `Infinity` only when
 * the cost exceeds the capacity and can never pass.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLimiter } from "./mod.ts";
 * const limiter = createLimiter({
 *   enabled: true, algorithm: "sliding-window", capacity: 1, rate: 1, windowMs: 1000,
 *   scope: "global", clientIpEnable: false, maxKeys: 1,
 * }, () => 0);
 * assert(limiter.take("global").allowed && !limiter.take("global").allowed);
 * ```
 *
 * @module
 */

export { createLimiter, createStepper, type KeyedLimiter } from "./keyed_limiter.ts";
export { createTokenBucket, type TokenBucketState } from "./token_bucket.ts";
export { createLeakyBucket, type LeakyBucketState } from "./leaky_bucket.ts";
export { createSlidingWindow, type SlidingWindowState } from "./sliding_window.ts";
export { createFixedWindow, type FixedWindowState } from "./fixed_window.ts";
export { type LimitParams, type LimitStepper } from "./stepper.ts";
export { type WarmUp } from "./warm_up.ts";
