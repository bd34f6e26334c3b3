/**
 * A circuit breaker per upstream instance (Hystrix / Envoy vocabulary), on an injected clock.
 *
 * - `closed`: everything passes; `failureThreshold` consecutive failures open it (a success
 *   resets the count).
 * - `open`: nothing passes for `timeoutMs`. The move to `half_open` is lazy: whoever reads the
 *   state (or asks to pass) once the time is up observes the transition, so no timer is needed.
 * - `half_open`: at most `halfOpenMaxCalls` trial requests at a time; `successThreshold`
 *   successes close it, any failure opens it again for a fresh `timeoutMs`.
 *
 * Apart from the states, `park(untilMs)` honours an upstream's own "come back later" (429/503
 * with `Retry-After`): requests are refused until then, but the breaker does not open, because
 * the instance is healthy, only busy. A park lasts at most {@linkcode MAX_PARK_MS} from when it is
 * set (or restored): nothing but time ends it — probes do not — so one answer must not be able to
 * take an instance out for a day.
 *
 * @module
 */

import type { BreakerConfig, BreakerState, Clock } from "../types.ts";

/** The state of a breaker as plain data with absolute times (for persistence across restarts). */
export interface BreakerSnapshot {
  /** State at the time of the snapshot (open → half_open already applied if due). */
  readonly state: BreakerState;
  /** Consecutive failures counted while closed. */
  readonly failures: number;
  /** Successes counted while half-open. */
  readonly successes: number;
  /** When an open breaker starts admitting trials (ms since the epoch; 0 when not open). */
  readonly openUntil: number;
  /** Requests are refused until this instant without opening (0 = not parked). */
  readonly parkedUntil: number;
}

/** Admission control for one upstream instance. */
export interface CircuitBreaker {
  /** Current state (moves open → half_open when the timeout has passed). */
  readonly state: BreakerState;
  /** Whether `tryAcquire()` would succeed now, without taking a trial slot. */
  canPass(): boolean;
  /** Admits a request: always in closed, never in open, one of the trial slots in half_open. */
  tryAcquire(): boolean;
  /** An admitted request succeeded. */
  onSuccess(): void;
  /** An admitted request failed (connection error, 5xx, timeout, broken body). */
  onFailure(): void;
  /** An admitted request ended without a verdict (client abort, 4xx): frees its trial slot. */
  onIgnored(): void;
  /**
   * Refuses requests until `untilMs` (absolute) without opening; a later instant extends it. At
   * most {@linkcode MAX_PARK_MS} from now: a later instant is cut to that.
   */
  park(untilMs: number): void;
  /** Until when requests are refused by {@linkcode CircuitBreaker.park} (0 = never parked). */
  readonly parkedUntil: number;
  /** The state as plain data. In-flight trials are not part of it: they die with the process. */
  snapshot(): BreakerSnapshot;
  /** Loads a snapshot; fires `onChange` when the state differs from the current one. */
  restore(snapshot: BreakerSnapshot): void;
}

/** Called once per state transition. */
export type BreakerChangeListener = (from: BreakerState, to: BreakerState) => void;

const STATES: readonly BreakerState[] = ["closed", "open", "half_open"];

/**
 * The longest an upstream's `Retry-After` parks its instance: 5 minutes. Long enough to honour in
 * full what inference servers mean by it (a model loading, a rate window of a minute or two); short
 * enough that one answer with a wild value (`86400` from a maintenance page, a proxy or a bug)
 * costs at most that long, since a parked instance is readmitted by time only. Once it is over, the
 * next request tries the instance again, and is parked anew if it is still busy. The gateway's own
 * `Retry-After` to clients, taken from the upstream's, is capped alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBreaker, MAX_PARK_MS } from "./mod.ts";
 * const breaker = createBreaker(
 *   { enabled: true, failureThreshold: 5, timeoutMs: 60_000, successThreshold: 1, halfOpenMaxCalls: 1 },
 *   () => 0,
 * );
 * breaker.park(86_400_000); // Retry-After: 86400
 * assert.equal(breaker.parkedUntil, MAX_PARK_MS);
 * ```
 */
export const MAX_PARK_MS = 5 * 60_000;

/**
 * Returns `value` as a {@linkcode BreakerSnapshot}, or `undefined` when it is not one (for data
 * read back from a store).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBreakerSnapshot } from "./breaker.ts";
 * assert.equal(parseBreakerSnapshot({ state: "ajar" }), undefined);
 * ```
 */
export function parseBreakerSnapshot(value: unknown): BreakerSnapshot | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const count = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  const time = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
  if (!STATES.includes(v.state as BreakerState) || !count(v.failures) || !count(v.successes)) {
    return undefined;
  }
  if (!time(v.openUntil) || !time(v.parkedUntil)) return undefined;
  return {
    state: v.state as BreakerState,
    failures: v.failures,
    successes: v.successes,
    openUntil: v.openUntil,
    parkedUntil: v.parkedUntil,
  };
}

function validate(config: BreakerConfig): void {
  const count = (name: keyof BreakerConfig) => {
    const value = config[name];
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      throw new RangeError(
        `Cannot create circuit breaker: "${name}" must be an integer >= 1, received ${value}`,
      );
    }
  };
  count("failureThreshold");
  count("successThreshold");
  count("halfOpenMaxCalls");
  const t = config.timeoutMs;
  if (typeof t !== "number" || !Number.isFinite(t) || t < 0) {
    throw new RangeError(
      `Cannot create circuit breaker: "timeoutMs" must be a finite number >= 0, received ${t}`,
    );
  }
}

/**
 * Creates a circuit breaker. With `enabled: false` it always admits and never changes state.
 *
 * @param config The validated `circuit-breaker` block.
 * @param clock Milliseconds now; the open timeout is measured with it.
 * @param onChange Called exactly once per transition, after the breaker has moved.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBreaker } from "./mod.ts";
 * let now = 0;
 * const breaker = createBreaker(
 *   { enabled: true, failureThreshold: 2, timeoutMs: 1000, successThreshold: 1, halfOpenMaxCalls: 1 },
 *   () => now,
 * );
 * breaker.onFailure();
 * breaker.onFailure();
 * assert.equal(breaker.state, "open");
 * now = 1000;
 * assert.equal(breaker.tryAcquire(), true); // the one trial
 * assert.equal(breaker.tryAcquire(), false);
 * breaker.onSuccess();
 * assert.equal(breaker.state, "closed");
 * ```
 */
export function createBreaker(
  config: BreakerConfig,
  clock: Clock,
  onChange?: BreakerChangeListener,
): CircuitBreaker {
  if (typeof config !== "object" || config === null) {
    throw new TypeError(`Cannot create circuit breaker: config must be an object, received ${config}`);
  }
  if (typeof clock !== "function") {
    throw new TypeError(
      `Cannot create circuit breaker: "clock" must be a function, received ${typeof clock}`,
    );
  }
  if (!config.enabled) return alwaysClosed();
  validate(config);
  const { failureThreshold, successThreshold, halfOpenMaxCalls, timeoutMs } = config;

  let state: BreakerState = "closed";
  let failures = 0;
  let successes = 0;
  let trials = 0;
  let openUntil = 0;
  let parkedUntil = 0;

  // Every field is settled before the listener runs, so it may safely call back into the breaker.
  const move = (to: BreakerState): void => {
    const from = state;
    if (from === to) return;
    state = to;
    onChange?.(from, to);
  };
  const open = (now: number): void => {
    failures = 0;
    successes = 0;
    trials = 0;
    openUntil = now + timeoutMs;
    move("open");
  };
  /** Applies the lazy open → half_open move; returns the current time. */
  const refresh = (): number => {
    const now = clock();
    if (state === "open" && now >= openUntil) {
      successes = 0;
      trials = 0;
      move("half_open");
    }
    return now;
  };
  const admits = (now: number): boolean =>
    now >= parkedUntil && (state === "closed" || (state === "half_open" && trials < halfOpenMaxCalls));

  return {
    get state() {
      refresh();
      return state;
    },
    get parkedUntil() {
      return parkedUntil;
    },
    canPass: () => admits(refresh()),
    tryAcquire() {
      if (!admits(refresh())) return false;
      if (state === "half_open") trials++;
      return true;
    },
    onSuccess() {
      refresh();
      if (state === "closed") {
        failures = 0;
      } else if (state === "half_open") {
        trials = Math.max(0, trials - 1);
        if (++successes >= successThreshold) {
          successes = 0;
          trials = 0;
          move("closed");
        }
      }
      // In open: the late result of a request admitted before opening says nothing new.
    },
    onFailure() {
      const now = refresh();
      if (state === "closed") {
        if (++failures >= failureThreshold) open(now);
      } else if (state === "half_open") {
        open(now);
      }
    },
    onIgnored() {
      refresh();
      if (state === "half_open") trials = Math.max(0, trials - 1);
    },
    park(untilMs) {
      if (typeof untilMs !== "number" || Number.isNaN(untilMs)) return;
      const until = Math.min(untilMs, clock() + MAX_PARK_MS);
      if (until > parkedUntil) parkedUntil = until;
    },
    snapshot() {
      refresh();
      return { state, failures, successes, openUntil: state === "open" ? openUntil : 0, parkedUntil };
    },
    restore(s) {
      failures = s.state === "closed" ? Math.min(s.failures, failureThreshold - 1) : 0;
      successes = s.state === "half_open" ? Math.min(s.successes, successThreshold - 1) : 0;
      trials = 0;
      openUntil = s.state === "open" ? s.openUntil : 0;
      // A park stored by an older release (or another replica) is bounded like a fresh one.
      parkedUntil = Math.max(parkedUntil, Math.min(s.parkedUntil, clock() + MAX_PARK_MS));
      move(s.state);
    },
  };
}

function alwaysClosed(): CircuitBreaker {
  return {
    state: "closed",
    parkedUntil: 0,
    canPass: () => true,
    tryAcquire: () => true,
    onSuccess() {},
    onFailure() {},
    onIgnored() {},
    park() {},
    snapshot: () => ({ state: "closed", failures: 0, successes: 0, openUntil: 0, parkedUntil: 0 }),
    restore() {},
  };
}
