/**
 * Latency outlier detection: Envoy's outlier detection (ejection for a base time that grows with
 * each ejection in a row, a cap on the share of a pool ejected at once) applied to first-byte times,
 * so that a hung instance — one that accepts requests and never answers — stops collecting a share
 * of every client's requests long before their first-byte timeout.
 *
 * Per pool (the instances serving one model), checked every `interval`:
 *
 * - the **reference** is the 90th percentile of the pool's last {@linkcode FirstByteTimes.CAPACITY}
 *   successful first-byte times; below {@linkcode FirstByteTimes.MIN_SAMPLES} samples no verdict is
 *   given (a pool that has not answered yet has no "usual");
 * - the **threshold** is `max(min-wait, factor × reference)`;
 * - an instance is an **outlier** when the oldest of its attempts still waiting for a first byte has
 *   waited at least the threshold, *and* it delivered no first byte since that attempt began (it is
 *   stalled, not busy: an engine that batches keeps answering others during a long prefill), *and*
 *   another instance of the pool delivered a first byte to an attempt begun after that one (the pool
 *   is not slow as a whole: the same request would not be slow everywhere);
 * - an outlier is ejected for `base-ejection-time × k` at its k-th ejection in a row (k drops by one
 *   for every `base-ejection-time` spent back in service), at most `max-ejection-time`;
 * - at most `max(1, ⌊n × max-ejection-percent / 100⌋)` instances of a pool are outlier-ejected at
 *   once (Envoy ejects at least one whatever the percentage), and never the last instance able to
 *   take traffic.
 *
 * Pure: times are passed in (ms on the request clock), the caller applies the verdicts.
 *
 * @module
 */

/** Options of {@linkcode createOutlierDetector} (the resolved `outlier-detection` block). */
export interface OutlierOptions {
  /** Time between two checks, ms (> 0); a verdict comes at most this late. */
  readonly intervalMs: number;
  /** How many times the pool's reference first-byte time a wait must reach (> 1). */
  readonly factor: number;
  /** The least wait that can make an instance an outlier, ms (> 0). */
  readonly minWaitMs: number;
  /** The first ejection's length, ms (> 0); the k-th in a row lasts k times as long. */
  readonly baseEjectionTimeMs: number;
  /** The longest ejection, ms (>= baseEjectionTimeMs). */
  readonly maxEjectionTimeMs: number;
  /** The share of a pool that may be outlier-ejected at once, percent (0–100; at least one instance). */
  readonly maxEjectionPercent: number;
}

/**
 * The recent successful first-byte times of one pool: a ring of the last
 * {@linkcode FirstByteTimes.CAPACITY}, recorded in O(1) without allocating; the percentile is
 * computed only when a check needs it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FirstByteTimes } from "./outlier.ts";
 * const times = new FirstByteTimes();
 * for (let ms = 100; ms <= 1000; ms += 100) times.record(ms);
 * assert.equal(times.reference(), 900);
 * ```
 */
export class FirstByteTimes {
  /** Samples kept. */
  static readonly CAPACITY = 64;
  /** Samples needed before a reference is given. */
  static readonly MIN_SAMPLES = 8;
  readonly #ring = new Float64Array(FirstByteTimes.CAPACITY);
  readonly #scratch = new Float64Array(FirstByteTimes.CAPACITY);
  #next = 0;
  #count = 0;

  /** Samples held. */
  get size(): number {
    return this.#count;
  }

  /** Records one successful first-byte time, ms. */
  record(ms: number): void {
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % FirstByteTimes.CAPACITY;
    if (this.#count < FirstByteTimes.CAPACITY) this.#count++;
  }

  /** The 90th percentile of the samples, ms; `undefined` below {@linkcode FirstByteTimes.MIN_SAMPLES}. */
  reference(): number | undefined {
    const n = this.#count;
    if (n < FirstByteTimes.MIN_SAMPLES) return undefined;
    const sorted = this.#scratch.subarray(0, n);
    sorted.set(this.#ring.subarray(0, n));
    sorted.sort();
    return sorted[Math.ceil(0.9 * n) - 1];
  }
}

/**
 * What outlier detection remembers of one instance (kept across config reloads by the caller):
 * its progress, fed by every first byte, and its ejections.
 */
export class InstanceProgress {
  /** When it last delivered a first byte (clock ms). */
  lastFirstByteAt = -Infinity;
  /** When the latest-begun of its attempts that got a first byte began (clock ms). */
  lastServedStart = -Infinity;
  /** Ejections in a row (the multiplier of the next ejection's length, before decay). */
  ejections = 0;
  /** When its last outlier ejection ended or ends (clock ms; 0: never ejected). */
  ejectedUntil = 0;

  /** An attempt begun at `startedAt` got its first byte at `now`. */
  served(startedAt: number, now: number): void {
    this.lastFirstByteAt = now;
    if (startedAt > this.lastServedStart) this.lastServedStart = startedAt;
  }
}

/** One instance of a pool as a check sees it. */
export interface OutlierCandidate {
  /** When its oldest attempt still waiting for a first byte began (clock ms); `undefined`: none waits. */
  readonly oldestWaitStart: number | undefined;
  /** Whether it may take traffic now (healthy, not outlier-ejected, its breaker admits). */
  readonly available: boolean;
  /** Whether an outlier ejection of it is in force. */
  readonly outlierEjected: boolean;
  readonly progress: InstanceProgress;
}

/** A verdict: eject `pool[index]` until `untilMs`, for `reason`. */
export interface Ejection {
  readonly index: number;
  readonly untilMs: number;
  readonly reason: string;
}

/** A configured detector. */
export interface OutlierDetector {
  readonly options: OutlierOptions;
  /**
   * The instances of `pool` to eject now (their `progress` already counts the ejection), given
   * the pool's reference first-byte time (`undefined`: too few samples, no verdict).
   */
  judge(pool: readonly OutlierCandidate[], referenceMs: number | undefined, now: number): Ejection[];
}

function check(name: keyof OutlierOptions, value: number, ok: boolean, rule: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || !ok) {
    throw new RangeError(`Cannot create outlier detector: "${name}" must be ${rule}, received ${value}`);
  }
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * Creates a detector; validates its options.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createOutlierDetector, InstanceProgress } from "./outlier.ts";
 * const detector = createOutlierDetector({
 *   intervalMs: 1000, factor: 10, minWaitMs: 5000,
 *   baseEjectionTimeMs: 30_000, maxEjectionTimeMs: 300_000, maxEjectionPercent: 10,
 * });
 * const answering = new InstanceProgress();
 * answering.served(19_000, 19_200); // answered a request that came after the hung one's
 * const hung = { oldestWaitStart: 10_000, available: true, outlierEjected: false, progress: new InstanceProgress() };
 * const ok = { oldestWaitStart: undefined, available: true, outlierEjected: false, progress: answering };
 * const [ejection] = detector.judge([hung, ok], 200, 20_000); // waited 10 s; threshold max(5 s, 10 × 0.2 s)
 * assert.equal(ejection.index, 0);
 * assert.equal(ejection.untilMs, 50_000);
 * ```
 */
export function createOutlierDetector(options: OutlierOptions): OutlierDetector {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot create outlier detector: options must be an object, received ${options}`);
  }
  const o = options;
  check("intervalMs", o.intervalMs, o.intervalMs > 0, "> 0");
  check("factor", o.factor, o.factor > 1, "> 1");
  check("minWaitMs", o.minWaitMs, o.minWaitMs > 0, "> 0");
  check("baseEjectionTimeMs", o.baseEjectionTimeMs, o.baseEjectionTimeMs > 0, "> 0");
  check(
    "maxEjectionTimeMs",
    o.maxEjectionTimeMs,
    o.maxEjectionTimeMs >= o.baseEjectionTimeMs,
    `>= baseEjectionTimeMs (${o.baseEjectionTimeMs})`,
  );
  check(
    "maxEjectionPercent",
    o.maxEjectionPercent,
    o.maxEjectionPercent >= 0 && o.maxEjectionPercent <= 100,
    "between 0 and 100",
  );
  const { factor, minWaitMs, baseEjectionTimeMs: base, maxEjectionTimeMs: max, maxEjectionPercent } = o;

  /** Eject length for its next ejection; counts the ejection in `p`. */
  const eject = (p: InstanceProgress, now: number): number => {
    // Every base period spent back in service forgives one earlier ejection.
    if (p.ejections > 0) p.ejections = Math.max(0, p.ejections - Math.floor((now - p.ejectedUntil) / base));
    p.ejections++;
    const ms = Math.min(max, base * p.ejections);
    p.ejectedUntil = now + ms;
    return ms;
  };

  /** Whether another instance than `i` served an attempt begun after `since`. */
  const othersServedSince = (pool: readonly OutlierCandidate[], i: number, since: number): boolean =>
    pool.some((c, j) => j !== i && c.progress.lastServedStart > since);

  return {
    options: o,
    judge(pool, referenceMs, now) {
      if (referenceMs === undefined || pool.length < 2) return [];
      const threshold = Math.max(minWaitMs, factor * referenceMs);
      const suspects: number[] = [];
      let ejected = 0;
      let available = 0;
      for (let i = 0; i < pool.length; i++) {
        const c = pool[i];
        if (c.outlierEjected) ejected++;
        if (!c.available) continue;
        available++;
        const since = c.oldestWaitStart;
        if (since === undefined || now - since < threshold) continue;
        if (c.progress.lastFirstByteAt >= since || !othersServedSince(pool, i, since)) continue;
        suspects.push(i);
      }
      if (suspects.length === 0) return [];
      // The longest-stalled first, while the caps allow.
      suspects.sort((a, b) => pool[a].oldestWaitStart! - pool[b].oldestWaitStart!);
      const allowed = Math.max(1, Math.floor((pool.length * maxEjectionPercent) / 100));
      const out: Ejection[] = [];
      for (const i of suspects) {
        if (ejected >= allowed || available <= 1) break;
        const waited = now - pool[i].oldestWaitStart!;
        const ms = eject(pool[i].progress, now);
        ejected++;
        available--;
        out.push({
          index: i,
          untilMs: now + ms,
          reason: `latency outlier: a request waited ${seconds(waited)} without a first byte ` +
            `(pool p90 ${Math.round(referenceMs)} ms × ${factor}, at least ${seconds(minWaitMs)}); ` +
            `ejected for ${seconds(ms)}`,
        });
      }
      return out;
    },
  };
}
