/**
 * Health of one upstream instance, fed by two sources:
 *
 * - active probes ({@linkcode HealthState.probeResult}): `unhealthyThreshold` consecutive failures
 *   mark a healthy instance unhealthy, `healthyThreshold` consecutive successes bring it back;
 * - live traffic ({@linkcode HealthState.passiveResult}): `passiveFailures` consecutive failed
 *   requests eject the instance at once (Envoy's "consecutive 5xx" outlier detection); a success
 *   resets the count.
 *
 * Instances start healthy, so a freshly started gateway serves immediately; a dead instance is found
 * by its first failures or within one probe interval. Only probes bring an ejected instance back: an
 * ejected instance gets no traffic, so live traffic could never vouch for it.
 *
 * Apart from that verdict, a *timed* ejection ({@linkcode HealthState.ejectUntil}, outlier detection's)
 * keeps the instance out until a given time whatever probes say, and ends by
 * {@linkcode HealthState.expireEjection} once that time has passed; the instance is then back if the
 * verdict is healthy. `healthy` is both together, and `onChange` fires when that changes.
 *
 * Live traffic outranks probes: a probe verdict that would eject the instance is overruled while
 * a live request succeeded within the last `liveGraceMs` (the gateway passes `interval ×
 * unhealthy-threshold`, the span the failing probes cover). A probe that fails while real requests
 * are being served proves the probe wrong, not the instance; `onProbeOverruled` reports it once per
 * failing run. When live traffic stops, the next failing probe decides again.
 *
 * @module
 */

import type { Clock } from "../types.ts";

/** Options of {@linkcode createHealthState}. */
export interface HealthStateOptions {
  /** Consecutive probe successes that mark an unhealthy instance healthy (integer >= 1). */
  readonly healthyThreshold: number;
  /** Consecutive probe failures that mark a healthy instance unhealthy (integer >= 1). */
  readonly unhealthyThreshold: number;
  /** Consecutive live-traffic failures that eject the instance (integer >= 0; 0 disables passive ejection). */
  readonly passiveFailures: number;
  /**
   * How long a live success keeps probes from ejecting the instance, ms (>= 0; 0: probes alone
   * decide). Needs `clock`.
   *
   * @default {0}
   */
  readonly liveGraceMs?: number;
  /** Time source for `liveGraceMs`. Required when `liveGraceMs` > 0. */
  readonly clock?: Clock;
  /**
   * Called once per failing probe run whose ejection live traffic overruled (log it: the probe is
   * probably misconfigured). Not a transition: the instance stays healthy.
   */
  readonly onProbeOverruled?: (detail: string) => void;
  /**
   * Called after every transition (never for a result that changes nothing). The state is already
   * updated when it runs, so a throwing callback cannot leave the state half-changed; the error
   * propagates to whoever reported the result.
   */
  readonly onChange?: (healthy: boolean, reason: string) => void;
}

/** A point-in-time copy of a {@linkcode HealthState}, for status pages and logs. */
export interface HealthSnapshot {
  /** Whether the instance may receive traffic. */
  readonly healthy: boolean;
  /** Why the instance is in its current state (`"initial"` before the first transition). */
  readonly reason: string;
  /** Transitions so far (flapping shows as a quickly growing number). */
  readonly transitions: number;
  /** Current run of probe successes (0 after a probe failure). */
  readonly probeSuccesses: number;
  /** Current run of probe failures (0 after a probe success). */
  readonly probeFailures: number;
  /** Current run of live-traffic failures (0 after a live success or a recovery). */
  readonly passiveFailures: number;
  /** When a live request last succeeded (clock ms), if one did and a clock is set. */
  readonly liveSuccessAt?: number;
  /** When a timed (outlier) ejection in force ends (clock ms). */
  readonly ejectedUntil?: number;
}

/** Mutable health of one instance. Cheap enough to consult on every request. */
export interface HealthState {
  /** Whether the instance may receive traffic. */
  readonly healthy: boolean;
  /** Records one active probe result; `detail` (e.g. `"HTTP 500"`) is folded into the reason. */
  probeResult(ok: boolean, detail?: string): void;
  /** Records the outcome of one live request; `detail` is folded into the reason. */
  passiveResult(ok: boolean, detail?: string): void;
  /**
   * Takes the instance out until `untilMs` (clock ms) whatever probes say: outlier detection's
   * ejection. A later `untilMs` extends one in force. Probes and live results go on being counted.
   */
  ejectUntil(untilMs: number, reason: string): void;
  /**
   * Ends the timed ejection once `now` has reached its end; the instance is back if nothing else
   * keeps it out. Returns whether one ended.
   */
  expireEjection(now: number, reason: string): boolean;
  /** When the timed ejection in force ends (clock ms; 0: none). */
  readonly ejectedUntil: number;
  /**
   * Marks the instance unhealthy now (e.g. an operator action); `healthyThreshold` probe successes
   * counted from this call bring it back.
   */
  eject(reason: string): void;
  /**
   * Marks the instance healthy now (another replica's probes saw it recover); a no-op when it is
   * healthy already.
   */
  readmit(reason: string): void;
  /** A copy of the counters and state. */
  snapshot(): HealthSnapshot;
}

function checkCount(name: string, value: number, min: number): void {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot create health state: "${name}" must be a number, received ${typeof value}`);
  }
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot create health state: "${name}" must be an integer >= ${min}, received ${value}`,
    );
  }
}

function checkFn(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`Cannot create health state: "${name}" must be a function, received ${typeof value}`);
  }
}

function withDetail(text: string, detail: string | undefined): string {
  return detail ? `${text} (last: ${detail})` : text;
}

/**
 * Creates the health state of one instance; it starts healthy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHealthState } from "./mod.ts";
 *
 * const changes: string[] = [];
 * const state = createHealthState({
 *   healthyThreshold: 2,
 *   unhealthyThreshold: 3,
 *   passiveFailures: 2,
 *   onChange: (healthy, reason) => changes.push(`${healthy}: ${reason}`),
 * });
 * state.passiveResult(false, "HTTP 502");
 * state.passiveResult(false, "HTTP 502"); // second failure in a row: ejected at once
 * assert(!state.healthy);
 * state.probeResult(true);
 * state.probeResult(true); // two probe successes bring it back
 * assert(state.healthy && changes.length === 2);
 * ```
 */
export function createHealthState(opts: HealthStateOptions): HealthState {
  if (opts === null || typeof opts !== "object") {
    throw new TypeError(`Cannot create health state: options must be an object, received ${opts}`);
  }
  checkCount("healthyThreshold", opts.healthyThreshold, 1);
  checkCount("unhealthyThreshold", opts.unhealthyThreshold, 1);
  checkCount("passiveFailures", opts.passiveFailures, 0);
  const liveGraceMs = opts.liveGraceMs ?? 0;
  if (typeof liveGraceMs !== "number" || !(liveGraceMs >= 0) || !Number.isFinite(liveGraceMs)) {
    throw new RangeError(
      `Cannot create health state: "liveGraceMs" must be a finite number >= 0, received ${liveGraceMs}`,
    );
  }
  checkFn("onChange", opts.onChange);
  checkFn("onProbeOverruled", opts.onProbeOverruled);
  checkFn("clock", opts.clock);
  if (liveGraceMs > 0 && opts.clock === undefined) {
    throw new TypeError('Cannot create health state: "clock" is required when "liveGraceMs" > 0');
  }
  const { healthyThreshold, unhealthyThreshold, passiveFailures: passiveLimit, onChange, clock } = opts;
  const { onProbeOverruled } = opts;

  /** The verdict of probes, live traffic and operators (a timed ejection aside). */
  let healthy = true;
  let reason = "initial";
  let ejectedUntil = 0;
  let ejectionReason = "";
  let transitions = 0;
  let probeSuccesses = 0;
  let probeFailures = 0;
  let passiveFailures = 0;
  let liveSuccessAt: number | undefined;
  let overruled = false;

  /** Whether live traffic succeeded recently enough to outrank a failing probe. */
  function servingLive(): boolean {
    return liveGraceMs > 0 && liveSuccessAt !== undefined && clock!() - liveSuccessAt <= liveGraceMs;
  }

  const up = () => healthy && ejectedUntil === 0;

  /** Reports a change of `healthy` (the verdict and the timed ejection together). */
  function changed(was: boolean, why: string): void {
    if (up() === was) return;
    transitions++;
    onChange?.(!was, why);
  }

  function transition(to: boolean, why: string): void {
    const was = up();
    healthy = to;
    reason = why;
    // Each state starts its own runs: successes seen before an ejection must not readmit the
    // instance, and failures seen before a recovery must not eject it again early.
    probeSuccesses = 0;
    probeFailures = 0;
    passiveFailures = 0;
    overruled = false;
    changed(was, why);
  }

  return {
    get healthy() {
      return up();
    },
    get ejectedUntil() {
      return ejectedUntil;
    },
    probeResult(ok, detail) {
      if (ok) {
        probeFailures = 0;
        overruled = false;
        probeSuccesses++;
        if (!healthy && probeSuccesses >= healthyThreshold) {
          transition(true, `${probeSuccesses} consecutive probe successes`);
        }
      } else {
        probeSuccesses = 0;
        probeFailures++;
        if (!healthy || probeFailures < unhealthyThreshold) return;
        const why = withDetail(`${probeFailures} consecutive probe failures`, detail);
        if (!servingLive()) return transition(false, why);
        if (!overruled) {
          overruled = true;
          onProbeOverruled?.(`${why}; kept: a live request succeeded within ${liveGraceMs} ms`);
        }
      }
    },
    passiveResult(ok, detail) {
      if (ok) {
        passiveFailures = 0;
        if (clock) liveSuccessAt = clock();
        return;
      }
      passiveFailures++;
      if (healthy && passiveLimit > 0 && passiveFailures >= passiveLimit) {
        transition(
          false,
          withDetail(`ejected after ${passiveFailures} consecutive request failures`, detail),
        );
      }
    },
    ejectUntil(untilMs, why) {
      if (typeof untilMs !== "number" || !Number.isFinite(untilMs) || untilMs <= 0) {
        throw new RangeError(`Cannot eject: "untilMs" must be a finite number > 0, received ${untilMs}`);
      }
      const was = up();
      ejectedUntil = Math.max(ejectedUntil, untilMs);
      ejectionReason = why;
      changed(was, why);
    },
    expireEjection(now, why) {
      if (ejectedUntil === 0 || now < ejectedUntil) return false;
      const was = up();
      ejectedUntil = 0;
      // Back in: the reason says why; still out by the verdict: its own reason stands.
      if (healthy) reason = why;
      changed(was, why);
      return true;
    },
    eject(why) {
      if (healthy) {
        transition(false, why);
      } else {
        // Already out: the operator's word still voids a recovery run in progress.
        probeSuccesses = 0;
        reason = why;
      }
    },
    readmit(why) {
      if (!healthy) transition(true, why);
    },
    snapshot() {
      return {
        healthy: up(),
        // Out by the verdict: its reason, which lasts longer than a timed ejection.
        reason: healthy && ejectedUntil !== 0 ? ejectionReason : reason,
        transitions,
        probeSuccesses,
        probeFailures,
        passiveFailures,
        ...(liveSuccessAt === undefined ? {} : { liveSuccessAt }),
        ...(ejectedUntil === 0 ? {} : { ejectedUntil }),
      };
    },
  };
}
