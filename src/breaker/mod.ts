/**
 * Circuit breaking per upstream instance: closed → open → half_open → closed, on an injected
 * clock, with trial-slot accounting and `park()` for upstreams that ask to be left alone a while.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBreaker } from "./mod.ts";
 * const breaker = createBreaker(
 *   { enabled: true, failureThreshold: 1, timeoutMs: 30_000, successThreshold: 1, halfOpenMaxCalls: 1 },
 *   () => 0,
 * );
 * breaker.onFailure();
 * assert.equal(breaker.canPass(), false);
 * ```
 *
 * @module
 */

export {
  type BreakerChangeListener,
  type BreakerSnapshot,
  type CircuitBreaker,
  createBreaker,
  MAX_PARK_MS,
  parseBreakerSnapshot,
} from "./breaker.ts";
