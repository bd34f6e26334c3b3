/**
 * Where limit decisions are made: a {@linkcode LimitBackend} decides every scope of one request
 * in one call, all-or-nothing — either every check admits and each consumes, or the first one
 * that denies is reported and nothing is consumed. The memory backend here runs the step
 * functions of this folder in the process; the Redis backend (`src/state/redis_limits.ts`) runs
 * the same algorithms in one script call on Redis server time, so replicas share one count.
 *
 * @module
 */

import type { Clock, Decision, LimitScope, RateLimitConfig } from "../types.ts";
import { createLimiter, type KeyedLimiter } from "./keyed_limiter.ts";

/** One scope of one request to decide. */
export interface LimitCheck {
  readonly scope: LimitScope;
  /** The limiter's stable name, e.g. `service:chat` (with `key`, it names the state). */
  readonly name: string;
  /** The key within the limiter: `global`, a client IP, an API key's name, `instance`. */
  readonly key: string;
  readonly config: RateLimitConfig;
  /**
   * What the request takes (requests, or tokens for a token limit); for
   * {@linkcode LimitBackend.adjust}, the signed correction. @default {1}
   */
  readonly cost?: number;
}

/** The answer for a list of checks. */
export interface LimitVerdict {
  /** Index of the first check that denied, or -1 when all admitted (and consumed). */
  readonly denied: number;
  /**
   * The denying decision, or else the tightest allowing one — least of its limit left, the
   * first on ties (for `X-RateLimit-*`); `undefined` when there were no checks.
   */
  readonly decision: Decision | undefined;
  /** One decision per `extra` check, when the checks admitted (else empty). */
  readonly extra: readonly Decision[];
  /** The backend's time of the decision (what {@linkcode LimitBackend.adjust} is given back). */
  readonly at: number;
}

/** Decides lists of checks (memory: synchronously; Redis: in one round trip). */
export interface LimitBackend {
  /**
   * Decides `checks` all-or-nothing; then, only when they admitted, each of `extra` on its own
   * (an instance's limit, decided in the same round trip as the request's scopes).
   */
  decide(checks: readonly LimitCheck[], extra?: readonly LimitCheck[]): LimitVerdict | Promise<LimitVerdict>;
  /**
   * Corrects what a request admitted at `at` took, by each check's signed `cost`: a charge
   * (> 0) always applies, a refund (< 0) gives back room, never past a fresh state (token
   * limits: the estimate reserved before the call, corrected from the reported usage).
   */
  adjust?(checks: readonly LimitCheck[], at: number): void | Promise<void>;
  /** Restarts the warm-up ramp of each check's key (an instance that recovered). */
  rewarm(checks: readonly LimitCheck[]): void | Promise<void>;
}

/** A backend that answers at once (the memory one). */
export interface SyncLimitBackend extends LimitBackend {
  decide(checks: readonly LimitCheck[], extra?: readonly LimitCheck[]): LimitVerdict;
  rewarm(checks: readonly LimitCheck[]): void;
}

/** The tighter of two allowing decisions: less of its limit left (`a` on ties). */
export function tighter(a: Decision | undefined, b: Decision): Decision {
  return !a || b.remaining / b.limit < a.remaining / a.limit ? b : a;
}

const NONE: readonly never[] = Object.freeze([]);

/**
 * An in-process backend: one keyed limiter per limiter name and config, all-or-nothing by
 * peeking every check before taking any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMemoryLimits } from "./backend.ts";
 * const config = {
 *   enabled: true, algorithm: "fixed-window", capacity: 1, rate: 1, windowMs: 1000,
 *   scope: "service", clientIpEnable: false, maxKeys: 10,
 * } as const;
 * const limits = createMemoryLimits(() => 0);
 * const a = { scope: "service", name: "service:chat", key: "service", config } as const;
 * const b = { ...a, name: "global", key: "global" } as const;
 * assert.equal(limits.decide([a]).denied, -1);
 * assert.equal(limits.decide([b, a]).denied, 1); // a is spent; b was not consumed
 * assert.equal(limits.decide([b]).denied, -1);
 * ```
 */
export function createMemoryLimits(clock: Clock): SyncLimitBackend {
  const limiters = new Map<string, { config: RateLimitConfig; limiter: KeyedLimiter }>();
  const limiterOf = (c: LimitCheck): KeyedLimiter => {
    const held = limiters.get(c.name);
    if (held !== undefined && held.config === c.config) return held.limiter;
    const limiter = createLimiter(c.config, clock);
    limiters.set(c.name, { config: c.config, limiter });
    return limiter;
  };
  return {
    decide(checks, extra = NONE) {
      for (let i = 0; i < checks.length; i++) {
        const c = checks[i];
        const d = limiterOf(c).peek(c.key, c.cost ?? 1);
        if (!d.allowed) return { denied: i, decision: d, extra: NONE, at: clock() };
      }
      let decision: Decision | undefined;
      for (const c of checks) decision = tighter(decision, limiterOf(c).take(c.key, c.cost ?? 1));
      return {
        denied: -1,
        decision,
        extra: extra.map((c) => limiterOf(c).take(c.key, c.cost ?? 1)),
        at: clock(),
      };
    },
    adjust(checks) {
      // In process the correction applies now: no clock but this one to be exact about.
      for (const c of checks) limiterOf(c).adjust(c.key, c.cost ?? 0);
    },
    rewarm(checks) {
      for (const c of checks) limiterOf(c).restartWarmUp(c.key);
    },
  };
}
