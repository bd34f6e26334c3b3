/**
 * The search of the stream-relay capacity scenario, kept pure so it can be tested: which number of
 * concurrent streams to try next, given the steps tried so far. Doubling from `start` until a step
 * fails (or `cap` passes), then bisecting between the highest pass below the lowest failure and
 * that failure until they are within `resolution` of each other. A pass above a failure (noise) is
 * ignored: the answer is never higher than the lowest failure.
 *
 * @module
 */

/** How the search runs. */
export interface SearchOptions {
  /** First number of streams tried. */
  readonly start: number;
  /** Highest number tried (the load generator's and the file-descriptor limit). */
  readonly cap: number;
  /** Stop bisecting once the failure is within this fraction above the pass (0.125 = 12.5 %). */
  readonly resolution: number;
  /** Below this, a failing search gives up (nothing passes). */
  readonly min: number;
  /** Upper bound on the steps of one search (run time). */
  readonly maxSteps: number;
}

/** One step: streams held, and whether the added inter-chunk p99 stayed within the limit. */
export interface Tried {
  readonly n: number;
  readonly pass: boolean;
}

/** The highest pass below the lowest failure, and that failure (either may be missing). */
export function bounds(tried: readonly Tried[]): { pass?: number; fail?: number } {
  const fails = tried.filter((t) => !t.pass).map((t) => t.n);
  const fail = fails.length ? Math.min(...fails) : undefined;
  const passes = tried.filter((t) => t.pass && (fail === undefined || t.n < fail)).map((t) => t.n);
  return { pass: passes.length ? Math.max(...passes) : undefined, fail };
}

/** A round midpoint (a multiple of 10 when that stays strictly inside the interval). */
function midpoint(lo: number, hi: number): number {
  const mid = Math.round((lo + hi) / 2);
  const round = Math.round(mid / 10) * 10;
  return round > lo && round < hi ? round : mid;
}

/**
 * The next number of streams to try, or `undefined` when the search is over.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nextStreams } from "./capacity.ts";
 * const o = { start: 100, cap: 1600, resolution: 0.25, min: 10, maxSteps: 10 };
 * assert.equal(nextStreams([], o), 100);
 * assert.equal(nextStreams([{ n: 100, pass: true }], o), 200);
 * assert.equal(nextStreams([{ n: 100, pass: true }, { n: 200, pass: false }], o), 150);
 * ```
 */
export function nextStreams(tried: readonly Tried[], o: SearchOptions): number | undefined {
  if (tried.length === 0) return o.start;
  if (tried.length >= o.maxSteps) return undefined;
  const { pass, fail } = bounds(tried);
  if (fail === undefined) return pass! >= o.cap ? undefined : Math.min(o.cap, pass! * 2);
  if (pass === undefined) return fail <= o.min ? undefined : Math.max(o.min, Math.floor(fail / 2));
  if (fail - pass <= Math.max(1, o.resolution * pass)) return undefined;
  return midpoint(pass, fail);
}

/**
 * Runs the search: `step(n)` measures `n` streams and says whether they passed. Returns every step
 * tried, in order, with what `step` measured.
 */
export async function search<T extends Tried>(
  o: SearchOptions,
  step: (n: number) => Promise<T>,
): Promise<T[]> {
  const tried: T[] = [];
  for (let n = nextStreams(tried, o); n !== undefined; n = nextStreams(tried, o)) tried.push(await step(n));
  return tried;
}
