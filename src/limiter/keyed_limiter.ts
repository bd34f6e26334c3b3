/**
 * A limiter per scope key ("global", "service:chat", "ip:chat:10.0.0.1"), all with the same
 * algorithm and numbers, in bounded memory.
 *
 * States live in an {@linkcode LruMap}, so the least recently used key is always at hand. At most
 * `maxKeys` keys are kept: a new key evicts the least recently used one. Each `take` also drops the least recently
 * used key when its state is back to a fresh one (full bucket, empty window), so idle clients
 * vanish without a sweeper timer.
 *
 * @module
 */

import type { Clock, Decision, LimitAlgorithm, RateLimitConfig } from "../types.ts";
import { createFixedWindow } from "./fixed_window.ts";
import { createLeakyBucket } from "./leaky_bucket.ts";
import { LruMap } from "./lru_map.ts";
import { createSlidingWindow } from "./sliding_window.ts";
import type { LimitParams, LimitStepper } from "./stepper.ts";
import { createTokenBucket } from "./token_bucket.ts";

/** Per-key rate limiting, as the dispatcher consults it. */
export interface KeyedLimiter {
  /** Decides a request of `cost` (default 1) for `key`, consuming only when allowed. */
  take(key: string, cost?: number): Decision;
  /** The decision `take` would return now, without consuming or creating the key. */
  peek(key: string, cost?: number): Decision;
  /**
   * Corrects what `key` was charged, after the fact: `delta > 0` takes more (into debt when it
   * must), `delta < 0` refunds (see `LimitStepper.adjust`).
   */
  adjust(key: string, delta: number): void;
  /** Restarts the warm-up ramp for `key` (an instance that recovered). No-op without warm-up. */
  restartWarmUp(key: string): void;
  /** Keys currently held. */
  readonly size: number;
  /** Every key with its state (plain JSON-serialisable data with absolute times). */
  snapshot(): Array<[string, unknown]>;
  /**
   * Loads states saved by {@linkcode KeyedLimiter.snapshot}, replacing those of the same keys.
   * Entries that are not states of this algorithm (say, the config changed) are skipped.
   * Returns how many were loaded.
   */
  restore(entries: Iterable<readonly [string, unknown]>): number;
  /** The configuration the limiter was created with. */
  readonly config: RateLimitConfig;
}

/** Every algorithm's step functions, by config name. */
const ALGORITHMS: Readonly<Record<LimitAlgorithm, (p: LimitParams) => LimitStepper<unknown>>> = {
  "token-bucket": createTokenBucket as (p: LimitParams) => LimitStepper<unknown>,
  "leaky-bucket": createLeakyBucket as (p: LimitParams) => LimitStepper<unknown>,
  "sliding-window": createSlidingWindow as (p: LimitParams) => LimitStepper<unknown>,
  "fixed-window": createFixedWindow as (p: LimitParams) => LimitStepper<unknown>,
};

/**
 * Creates the step functions of `config.algorithm` (validating the numbers it uses).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStepper } from "./mod.ts";
 * const s = createStepper({ algorithm: "fixed-window", capacity: 5, rate: 1, windowMs: 1000 });
 * assert(s.name === "fixed-window");
 * ```
 */
export function createStepper(
  config: Pick<RateLimitConfig, "algorithm" | "capacity" | "rate" | "windowMs" | "warmUp">,
): LimitStepper<unknown> {
  const make = Object.hasOwn(ALGORITHMS, config.algorithm) ? ALGORITHMS[config.algorithm] : undefined;
  if (make === undefined) {
    throw new RangeError(
      `Cannot create rate limiter: "algorithm" must be one of ${
        Object.keys(ALGORITHMS).join(", ")
      }, received ${JSON.stringify(config.algorithm)}`,
    );
  }
  return make(config);
}

function checkCost(cost: number): void {
  if (typeof cost !== "number" || !(cost >= 0) || cost === Infinity) {
    throw new RangeError(
      `Cannot take from rate limiter: "cost" must be a finite number >= 0, received ${cost}`,
    );
  }
}

/**
 * Creates a keyed limiter. With `enabled: false` every request passes and nothing is stored.
 *
 * @param config The validated `rate-limit` block.
 * @param clock Milliseconds now; the warm-up ramp of every key starts at the limiter's creation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLimiter } from "./mod.ts";
 * let now = 0;
 * const limiter = createLimiter({
 *   enabled: true, algorithm: "token-bucket", capacity: 2, rate: 1, windowMs: 1000,
 *   scope: "client-ip", clientIpEnable: true, maxKeys: 100,
 * }, () => now);
 * assert(limiter.take("ip:chat:10.0.0.1").allowed);
 * assert(limiter.take("ip:chat:10.0.0.1").allowed);
 * const denied = limiter.take("ip:chat:10.0.0.1");
 * assert(!denied.allowed && denied.retryAfterMs === 1000);
 * now = 1000;
 * assert(limiter.take("ip:chat:10.0.0.1").allowed);
 * ```
 */
export function createLimiter(config: RateLimitConfig, clock: Clock): KeyedLimiter {
  if (typeof config !== "object" || config === null) {
    throw new TypeError(`Cannot create rate limiter: config must be an object, received ${config}`);
  }
  if (typeof clock !== "function") {
    throw new TypeError(`Cannot create rate limiter: "clock" must be a function, received ${typeof clock}`);
  }
  if (!config.enabled) return passThrough(config);
  const { maxKeys } = config;
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError(
      `Cannot create rate limiter: "maxKeys" must be an integer >= 1, received ${maxKeys}`,
    );
  }
  const stepper = createStepper(config);
  const start = clock();
  const states = new LruMap<unknown>();

  /** Stores `state` as the most recently used, evicting the least recently used when full. */
  const put = (key: string, state: unknown): void => {
    if (states.size >= maxKeys && states.get(key) === undefined) states.delete(states.oldestKey() as string);
    states.set(key, state);
  };

  /** Drops the least recently used key if it is back to a fresh state. */
  const sweep = (now: number): void => {
    const oldest = states.oldestValue();
    if (oldest !== undefined && stepper.isIdle(oldest, now)) states.delete(states.oldestKey() as string);
  };

  return {
    config,
    get size() {
      return states.size;
    },
    take(key, cost = 1) {
      checkCost(cost);
      const now = clock();
      const [next, decision] = stepper.step(states.get(key) ?? stepper.init(now, start), now, cost);
      if (stepper.isIdle(next, now)) states.delete(key);
      else put(key, next);
      sweep(now);
      return decision;
    },
    peek(key, cost = 1) {
      checkCost(cost);
      const now = clock();
      return stepper.peek(states.get(key) ?? stepper.init(now, start), now, cost);
    },
    adjust(key, delta) {
      if (typeof delta !== "number" || !Number.isFinite(delta)) {
        throw new RangeError(
          `Cannot adjust rate limiter: "delta" must be a finite number, received ${delta}`,
        );
      }
      if (delta === 0) return;
      const held = states.get(key);
      // A refund to a key that is back to a fresh state has nothing to give back.
      if (held === undefined && delta < 0) return;
      const now = clock();
      const next = stepper.adjust(held ?? stepper.init(now, start), now, delta);
      if (stepper.isIdle(next, now)) states.delete(key);
      else put(key, next);
    },
    restartWarmUp(key) {
      if (config.warmUp === undefined || config.warmUp.periodMs <= 0) return;
      const now = clock();
      put(key, stepper.rewarm(states.get(key) ?? stepper.init(now, start), now));
    },
    snapshot: () => Array.from(states.entries()),
    restore(entries) {
      let loaded = 0;
      for (const [key, value] of entries) {
        const state = typeof key === "string" ? stepper.parse(value) : undefined;
        if (state === undefined) continue;
        put(key, state);
        loaded++;
      }
      return loaded;
    },
  };
}

function passThrough(config: RateLimitConfig): KeyedLimiter {
  const limit = config.capacity;
  const open: Decision = Object.freeze({
    allowed: true,
    retryAfterMs: 0,
    limit,
    remaining: limit,
    resetMs: 0,
  });
  return {
    config,
    size: 0,
    take: () => open,
    peek: () => open,
    adjust() {},
    restartWarmUp() {},
    snapshot: () => [],
    restore: () => 0,
  };
}
