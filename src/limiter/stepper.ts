/**
 * The one interface every limiting algorithm implements: a pure step function over a small,
 * JSON-serialisable state, plus the few helpers the keyed limiter needs (idle detection for
 * eviction, warm-up restart, parsing a restored snapshot).
 *
 * Times are absolute milliseconds from the injected clock, so a state saved by one process stays
 * meaningful in the next one.
 *
 * @module
 */

import type { Decision, LimitAlgorithm } from "../types.ts";
import type { WarmUp } from "./warm_up.ts";

/** The numbers an algorithm runs on (a subset of `RateLimitConfig`). */
export interface LimitParams {
  /** Burst size (buckets) or requests per window (windows). */
  readonly capacity: number;
  /** Refill / leak rate per second (buckets only). */
  readonly rate: number;
  /** Window length in ms (windows only). */
  readonly windowMs: number;
  /** Optional warm-up ramp. */
  readonly warmUp?: WarmUp;
}

/** What every algorithm's state begins with (short keys: many states are kept and persisted). */
export interface TaggedState<A extends string> {
  /** Algorithm tag, so a state of another algorithm is never mistaken for this one. */
  readonly a: A;
  /** When the warm-up ramp began. */
  readonly ws: number;
}

/**
 * A limiting algorithm as pure functions over its state `S`. No method mutates its arguments;
 * `step` returns the next state, which the caller stores.
 */
export interface LimitStepper<S> {
  /** The config name of the algorithm. */
  readonly name: LimitAlgorithm;
  /** The validated, frozen parameters. */
  readonly params: LimitParams;
  /** A fresh state at `now`; the warm-up ramp is taken to have begun at `warmStart` (default `now`). */
  init(now: number, warmStart?: number): S;
  /** Decides a request of `cost` at `now`; consumes only when allowed. */
  step(state: S, now: number, cost: number): [S, Decision];
  /** The decision `step` would return, without consuming. */
  peek(state: S, now: number, cost: number): Decision;
  /**
   * Corrects what was taken, after the fact: `delta > 0` takes that much more unconditionally (the
   * request cost more than it reserved: the limiter may go into debt, at most one `capacity`
   * deep, and admits nothing until it has paid it back); `delta < 0` gives it back (a refund,
   * never to more room than a fresh state has).
   */
  adjust(state: S, now: number, delta: number): S;
  /** Restarts the warm-up ramp at `now` (buckets also drop to the ramp's initial burst). */
  rewarm(state: S, now: number): S;
  /** True when the state is indistinguishable from a fresh one past warm-up, so it may be dropped. */
  isIdle(state: S, now: number): boolean;
  /** Returns the value as a state of this algorithm, or `undefined` when it is not one. */
  parse(value: unknown): S | undefined;
}

/**
 * Tolerance for float noise when comparing token counts and times: a request that fits to within
 * a billionth of a token is allowed, and a wait a billionth of a ms past an integer is not rounded
 * up to the next ms.
 */
export const EPSILON = 1e-9;

/**
 * A wait in ms rounded up to whole ms (so that waiting that long is always enough), tolerant of
 * float noise just above an integer; `Infinity` stays `Infinity`. Callers compute waits relative
 * to `now` because epoch-sized timestamps carry only ~0.0002 ms of precision.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ceilMs } from "./stepper.ts";
 * assert(ceilMs(50.2) === 51 && ceilMs(100.0000000000001) === 100 && ceilMs(-3) === 0);
 * ```
 */
export function ceilMs(ms: number): number {
  if (ms === Infinity) return Infinity;
  return ms <= EPSILON ? 0 : Math.ceil(ms - EPSILON);
}

/** Which optional parameters an algorithm reads. */
export interface ParamNeeds {
  readonly rate?: boolean;
  readonly windowMs?: boolean;
}

function positive(what: string, name: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(`Cannot create ${what}: "${name}" must be a finite number, received ${show(value)}`);
  }
  if (value <= 0) throw new RangeError(`Cannot create ${what}: "${name}" must be > 0, received ${value}`);
}

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * Validates and freezes an algorithm's parameters; `what` names the algorithm in messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateParams } from "./stepper.ts";
 * try {
 *   validateParams("token bucket", { capacity: 10, rate: 0, windowMs: 1000 }, { rate: true });
 * } catch (e) {
 *   assert((e as Error).message === 'Cannot create token bucket: "rate" must be > 0, received 0');
 * }
 * ```
 */
export function validateParams(what: string, params: LimitParams, needs: ParamNeeds): LimitParams {
  if (typeof params !== "object" || params === null) {
    throw new TypeError(`Cannot create ${what}: options must be an object, received ${show(params)}`);
  }
  positive(what, "capacity", params.capacity);
  if (needs.rate) positive(what, "rate", params.rate);
  if (needs.windowMs) positive(what, "windowMs", params.windowMs);
  const w = params.warmUp;
  if (w !== undefined) {
    if (typeof w !== "object" || w === null) {
      throw new TypeError(`Cannot create ${what}: "warmUp" must be an object, received ${show(w)}`);
    }
    if (typeof w.periodMs !== "number" || !Number.isFinite(w.periodMs) || w.periodMs < 0) {
      throw new RangeError(
        `Cannot create ${what}: "warmUp.periodMs" must be a finite number >= 0, received ${show(w.periodMs)}`,
      );
    }
    const f = w.initialFraction;
    if (typeof f !== "number" || !(f > 0 && f <= 1)) {
      throw new RangeError(
        `Cannot create ${what}: "warmUp.initialFraction" must be > 0 and <= 1, received ${show(f)}`,
      );
    }
  }
  return Object.freeze({
    capacity: params.capacity,
    rate: params.rate,
    windowMs: params.windowMs,
    warmUp: w === undefined
      ? undefined
      : Object.freeze({ periodMs: w.periodMs, initialFraction: w.initialFraction }),
  });
}

/** True for a finite number (state parsing). */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** The fields of a value being parsed, once its warm-up start is known to be a finite number. */
export type TaggedRecord = Record<string, unknown> & { readonly ws: number };

/**
 * The start of every `parse`: `value` as a record when it carries the tag `a` and a finite
 * warm-up start `ws`, else `undefined`. The caller checks its algorithm's other fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { taggedRecord } from "./stepper.ts";
 * assert(taggedRecord({ a: "tb", ws: 0, t: 0 }, "tb") !== undefined);
 * assert(taggedRecord({ a: "lb", ws: 0 }, "tb") === undefined && taggedRecord(null, "tb") === undefined);
 * ```
 */
export function taggedRecord(value: unknown, a: string): TaggedRecord | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  return v.a === a && isFiniteNumber(v.ws) ? v as TaggedRecord : undefined;
}

/**
 * Builds a denial (nothing consumed). The wait is at least 1 ms: a denial that could be retried
 * at once would only be float noise around an exact fit.
 */
export function denied(limit: number, remaining: number, retryAfterMs: number, resetMs: number): Decision {
  return {
    allowed: false,
    retryAfterMs: Math.max(1, retryAfterMs),
    limit,
    remaining: Math.max(0, remaining),
    resetMs,
  };
}

/** Builds an admission. */
export function allowed(limit: number, remaining: number, resetMs: number): Decision {
  return { allowed: true, retryAfterMs: 0, limit, remaining: Math.max(0, remaining), resetMs };
}

/** Whole units left in a float amount, tolerant of float noise. */
export function whole(amount: number): number {
  return Math.max(0, Math.floor(amount + EPSILON));
}
