/**
 * Exponentially weighted moving averages of latency and errors, kept in `UpstreamStats` and read
 * by `least-latency`. The dispatcher calls each function once per finished attempt.
 *
 * `ewma ← alpha × sample + (1 − alpha) × ewma`: with alpha = 0.2 a sample's influence halves
 * about every 3 requests, so a slowed-down instance is noticed within a handful of requests while
 * one outlier moves the average by a fifth of its excess.
 *
 * @module
 */

import type { UpstreamStats } from "../types.ts";

/** Default smoothing for latency samples. */
export const DEFAULT_LATENCY_ALPHA = 0.2;
/** Default smoothing for outcomes: slower than latency, so one failure is not a verdict. */
export const DEFAULT_ERROR_ALPHA = 0.1;
/** Smallest stored latency: 0 means "no sample yet", so a 0 ms sample is stored as this. */
export const MIN_LATENCY_MS = 0.001;

function checkAlpha(fn: string, alpha: number): void {
  if (!(alpha > 0 && alpha <= 1)) {
    throw new RangeError(`Cannot ${fn}: "alpha" must be in (0, 1], received ${alpha}`);
  }
}

/**
 * Folds one latency sample (ms; time to first byte for streams) into `stats.latencyEwmaMs` and
 * returns the new value. The first sample is taken as is, so a new instance is not judged by
 * a decayed 0. Negative samples (a clock step backwards) count as 0 ms; NaN and infinite samples
 * are ignored. Record a sample for failed attempts too when their duration is known: an instance
 * that only ever fails otherwise stays "unsampled" and keeps getting probe requests.
 *
 * @throws {RangeError} when `alpha` is not in (0, 1].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { observeLatency } from "./ewma.ts";
 * const stats = { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 };
 * observeLatency(stats, 100);
 * assert.equal(stats.latencyEwmaMs, 100);
 * assert.equal(observeLatency(stats, 200, 0.5), 150);
 * ```
 */
export function observeLatency(
  stats: UpstreamStats,
  sampleMs: number,
  alpha = DEFAULT_LATENCY_ALPHA,
): number {
  checkAlpha("observe latency", alpha);
  if (!Number.isFinite(sampleMs)) return stats.latencyEwmaMs;
  const sample = sampleMs > MIN_LATENCY_MS ? sampleMs : MIN_LATENCY_MS;
  const prev = stats.latencyEwmaMs;
  const next = prev > 0 ? prev + alpha * (sample - prev) : sample;
  stats.latencyEwmaMs = next;
  return next;
}

/**
 * Folds one outcome into `stats.errorEwma` (a failure counts 1, a success 0) and returns the new
 * value, always in [0, 1]. Starts from 0: a new instance is presumed healthy.
 *
 * @throws {RangeError} when `alpha` is not in (0, 1].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { observeOutcome } from "./ewma.ts";
 * const stats = { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 };
 * observeOutcome(stats, false, 0.5);
 * assert.equal(stats.errorEwma, 0.5);
 * assert.equal(observeOutcome(stats, true, 0.5), 0.25);
 * ```
 */
export function observeOutcome(stats: UpstreamStats, ok: boolean, alpha = DEFAULT_ERROR_ALPHA): number {
  checkAlpha("observe outcome", alpha);
  const prev = stats.errorEwma;
  const next = prev + alpha * ((ok ? 0 : 1) - prev);
  stats.errorEwma = next < 0 ? 0 : next > 1 ? 1 : next;
  return stats.errorEwma;
}
