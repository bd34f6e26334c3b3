/**
 * A small fixed histogram of time-to-first-token values: 16 buckets with upper bounds from 25 ms
 * to 40 s (the last one open-ended). Fixed bounds mean one second of traffic costs 16 counters
 * whatever the traffic, and buckets of different seconds or instances add up by plain summing.
 * Percentiles are estimated by linear interpolation inside the bucket that holds the rank, the
 * way Prometheus' `histogram_quantile` does.
 *
 * @module
 */

/** Upper bounds (ms) of every bucket but the last, which holds everything slower. */
export const TTFT_BOUNDS_MS: readonly number[] = [
  25,
  50,
  100,
  150,
  250,
  400,
  600,
  1000,
  1500,
  2500,
  4000,
  6000,
  10_000,
  20_000,
  40_000,
];

/** Number of buckets (bounds + the open-ended last one). */
export const TTFT_BUCKETS: number = TTFT_BOUNDS_MS.length + 1;

/**
 * The bucket a TTFT value falls into (`value <= bound`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ttftBucket, TTFT_BUCKETS } from "./ttft_histogram.ts";
 * assert.equal(ttftBucket(0), 0);
 * assert.equal(ttftBucket(25), 0);
 * assert.equal(ttftBucket(26), 1);
 * assert.equal(ttftBucket(1e9), TTFT_BUCKETS - 1);
 * ```
 */
export function ttftBucket(ms: number): number {
  let i = 0;
  while (i < TTFT_BOUNDS_MS.length && ms > TTFT_BOUNDS_MS[i]) i++;
  return i;
}

/**
 * The `q`-quantile (0..1) of the histogram in `counts[offset .. offset + TTFT_BUCKETS)`, or
 * `undefined` when it is empty. Values in the last (open) bucket are reported as its lower bound.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ttftBucket, ttftQuantile, TTFT_BUCKETS } from "./ttft_histogram.ts";
 * const h = new Uint32Array(TTFT_BUCKETS);
 * for (let i = 0; i < 100; i++) h[ttftBucket(200)]++; // all in (150, 250]
 * const p50 = ttftQuantile(h, 0, 0.5)!;
 * assert(p50 > 150 && p50 <= 250);
 * assert.equal(ttftQuantile(new Uint32Array(TTFT_BUCKETS), 0, 0.5), undefined);
 * ```
 */
export function ttftQuantile(counts: ArrayLike<number>, offset: number, q: number): number | undefined {
  let total = 0;
  for (let i = 0; i < TTFT_BUCKETS; i++) total += counts[offset + i];
  if (total === 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < TTFT_BUCKETS; i++) {
    const n = counts[offset + i];
    if (n > 0 && below + n >= rank) {
      const lower = i === 0 ? 0 : TTFT_BOUNDS_MS[i - 1];
      if (i === TTFT_BUCKETS - 1) return lower;
      const upper = TTFT_BOUNDS_MS[i];
      return lower + (upper - lower) * Math.max(0, rank - below) / n;
    }
    below += n;
  }
  return TTFT_BOUNDS_MS[TTFT_BOUNDS_MS.length - 1];
}
