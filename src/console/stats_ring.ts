/**
 * The console's history: per key (a service or an instance), the last `seconds` one-second
 * buckets of requests, errors, output tokens and a TTFT histogram, in preallocated typed arrays.
 * A bucket is reused when its second comes round again (a ring), so memory is fixed per series
 * and the number of series is capped: the whole ring never exceeds {@linkcode StatsRing.maxBytes}.
 *
 * Pure apart from the injected clock; recording allocates nothing.
 *
 * @module
 */

import { positiveInt } from "./positive_int.ts";
import type { Clock } from "../types.ts";
import { TTFT_BUCKETS, ttftBucket, ttftQuantile } from "./ttft_histogram.ts";

/** Bytes one bucket costs: second stamp, requests, errors, tokens (4 × 4) + 16 × 2 histogram. */
export const BYTES_PER_BUCKET: number = 4 * 4 + TTFT_BUCKETS * 2;

/** Options of {@linkcode createStatsRing}. */
export interface StatsRingOptions {
  readonly clock: Clock;
  /** Buckets (seconds) kept per series. @default {900} */
  readonly seconds?: number;
  /** Series kept at most; samples of further keys are counted in `dropped`. @default {256} */
  readonly maxSeries?: number;
}

/** Totals over a window of whole seconds. */
export interface WindowStats {
  readonly requests: number;
  readonly errors: number;
  readonly tokens: number;
  /** TTFT percentiles (ms) of the window; absent without samples. */
  readonly ttftP50?: number;
  readonly ttftP95?: number;
}

/** One series as arrays over `[from, from + length)` seconds; `ttftP95` is `null` where empty. */
export interface SeriesHistory {
  readonly from: number;
  readonly requests: number[];
  readonly errors: number[];
  readonly ttftP95: (number | null)[];
  readonly tokens: number[];
}

/** A fixed-size ring of per-second series. */
export interface StatsRing {
  /** Adds one finished request to `key`'s current second. */
  record(key: string, errored: boolean, ttftMs: number | undefined, tokens: number): void;
  /** Totals of `key` over the `seconds` whole seconds before the current one. */
  window(key: string, seconds: number): WindowStats;
  /** The point of second `sec` (epoch seconds): `[requests, errors, ttftP95 | null, tokens]`. */
  point(key: string, sec: number): [number, number, number | null, number] | undefined;
  /** `key`'s whole history up to (not including) the current second, from its first sample. */
  history(key: string): SeriesHistory | undefined;
  /** Keys with a series. */
  keys(): IterableIterator<string>;
  /** Drops every series whose key is not in `keep` (instances removed from the config). */
  retain(keep: ReadonlySet<string>): void;
  /** Samples not recorded because `maxSeries` series existed already. */
  readonly dropped: number;
  /** Upper bound of the memory the buckets take: `maxSeries × seconds × BYTES_PER_BUCKET`. */
  readonly maxBytes: number;
}

interface Series {
  readonly stamp: Uint32Array;
  readonly requests: Uint32Array;
  readonly errors: Uint32Array;
  readonly tokens: Uint32Array;
  readonly hist: Uint16Array;
  /** First second with a sample (history starts there). */
  first: number;
}

const U16_MAX = 0xffff;
const U32_MAX = 0xffff_ffff;

/**
 * Creates a ring of per-second series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStatsRing } from "./stats_ring.ts";
 * let now = 1_000_000;
 * const ring = createStatsRing({ clock: () => now, seconds: 60, maxSeries: 8 });
 * ring.record("chat", false, 120, 30);
 * ring.record("chat", true, undefined, 0);
 * now += 1000;
 * const [requests, errors, ttftP95, tokens] = ring.point("chat", 1000)!;
 * assert.deepEqual([requests, errors, tokens], [2, 1, 30]);
 * assert(ttftP95! > 100 && ttftP95! <= 150); // the one TTFT sample, inside its bucket
 * assert.equal(ring.window("chat", 10).requests, 2);
 * assert.equal(ring.maxBytes, 8 * 60 * 48);
 * ```
 */
export function createStatsRing(options: StatsRingOptions): StatsRing {
  if (typeof options?.clock !== "function") {
    throw new TypeError(
      `Cannot create stats ring: "clock" must be a function, received ${typeof options?.clock}`,
    );
  }
  const clock = options.clock;
  const size = positiveInt("stats ring", "seconds", options.seconds ?? 900);
  const maxSeries = positiveInt("stats ring", "maxSeries", options.maxSeries ?? 256);
  const series = new Map<string, Series>();
  const scratch = new Uint32Array(TTFT_BUCKETS);
  let dropped = 0;

  const nowSec = () => Math.floor(clock() / 1000);
  const make = (sec: number): Series => ({
    stamp: new Uint32Array(size),
    requests: new Uint32Array(size),
    errors: new Uint32Array(size),
    tokens: new Uint32Array(size),
    hist: new Uint16Array(size * TTFT_BUCKETS),
    first: sec,
  });
  /** The slot of `sec` if it holds that second's data, else -1. */
  const slotOf = (s: Series, sec: number): number => {
    const slot = sec % size;
    return s.stamp[slot] === sec ? slot : -1;
  };

  return {
    record(key, errored, ttftMs, tokens) {
      const sec = nowSec();
      let s = series.get(key);
      if (!s) {
        if (series.size >= maxSeries) {
          dropped++;
          return;
        }
        s = make(sec);
        series.set(key, s);
      }
      const slot = sec % size;
      if (s.stamp[slot] !== sec) {
        s.stamp[slot] = sec;
        s.requests[slot] = 0;
        s.errors[slot] = 0;
        s.tokens[slot] = 0;
        s.hist.fill(0, slot * TTFT_BUCKETS, (slot + 1) * TTFT_BUCKETS);
      }
      if (s.requests[slot] < U32_MAX) s.requests[slot]++;
      if (errored && s.errors[slot] < U32_MAX) s.errors[slot]++;
      if (tokens > 0) s.tokens[slot] = Math.min(U32_MAX, s.tokens[slot] + tokens);
      if (ttftMs !== undefined && ttftMs >= 0) {
        const i = slot * TTFT_BUCKETS + ttftBucket(ttftMs);
        if (s.hist[i] < U16_MAX) s.hist[i]++;
      }
    },
    window(key, seconds) {
      const s = series.get(key);
      if (!s) return { requests: 0, errors: 0, tokens: 0 };
      const end = nowSec();
      let requests = 0, errors = 0, tokens = 0;
      scratch.fill(0);
      for (let sec = end - Math.min(seconds, size); sec < end; sec++) {
        const slot = slotOf(s, sec);
        if (slot < 0) continue;
        requests += s.requests[slot];
        errors += s.errors[slot];
        tokens += s.tokens[slot];
        for (let b = 0; b < TTFT_BUCKETS; b++) scratch[b] += s.hist[slot * TTFT_BUCKETS + b];
      }
      const p50 = ttftQuantile(scratch, 0, 0.5);
      const p95 = ttftQuantile(scratch, 0, 0.95);
      return {
        requests,
        errors,
        tokens,
        ...(p50 !== undefined ? { ttftP50: p50 } : {}),
        ...(p95 !== undefined ? { ttftP95: p95 } : {}),
      };
    },
    point(key, sec) {
      const s = series.get(key);
      if (!s) return undefined;
      const slot = slotOf(s, sec);
      if (slot < 0) return [0, 0, null, 0];
      const p95 = ttftQuantile(s.hist, slot * TTFT_BUCKETS, 0.95);
      return [s.requests[slot], s.errors[slot], p95 === undefined ? null : Math.round(p95), s.tokens[slot]];
    },
    history(key) {
      const s = series.get(key);
      if (!s) return undefined;
      const end = nowSec();
      const from = Math.max(s.first, end - size);
      const h: SeriesHistory = { from, requests: [], errors: [], ttftP95: [], tokens: [] };
      for (let sec = from; sec < end; sec++) {
        const [r, e, p, k] = this.point(key, sec)!;
        h.requests.push(r);
        h.errors.push(e);
        h.ttftP95.push(p);
        h.tokens.push(k);
      }
      return h;
    },
    keys: () => series.keys(),
    retain(keep) {
      for (const key of [...series.keys()]) if (!keep.has(key)) series.delete(key);
    },
    get dropped() {
      return dropped;
    },
    maxBytes: maxSeries * size * BYTES_PER_BUCKET,
  };
}
