/**
 * What the bench measured for one target in one scenario, and how rounds of it are reduced to one.
 *
 * @module
 */

/** Chunks per stream of the bench upstream (its `--chunks` default), for CPU per chunk. */
export const STREAM_CHUNKS = 50;

/** What the bench measured for one target in one scenario. */
export interface Measurement {
  readonly scenario: string;
  /** A client dialect's scenario: the plain OpenAI scenario it is compared with. */
  readonly compare?: string;
  readonly label: string;
  readonly target: "direct" | "gateway" | "deno proxy" | "gateway redis" | "gateway workers=2";
  readonly kind: "requests" | "stream" | "hold" | "soak";
  readonly requests: number;
  readonly errors: number;
  readonly rps?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly cpuUsPerRequest?: number;
  readonly peakRssMb?: number;
  readonly ttfbP50Ms?: number;
  readonly readsP50?: number;
  readonly maxGapP99Ms?: number;
  /** Hold: streams open at once, and RSS before opening them. */
  readonly open?: number;
  readonly rssBeforeMb?: number;
  /** Hold: RSS at the end of the hold, all streams still open. */
  readonly rssHoldingMb?: number;
  /** Hold, the gateway: its JS heap used and reserved then (its `/metrics`), MB. */
  readonly heapUsedMb?: number;
  readonly heapTotalMb?: number;
  /** CPU time the hypervisor took while this was measured, % (noisy neighbours). */
  readonly stealPct?: number;
  /** With several rounds: how far the slowest round fell below the best, as a fraction. */
  readonly rpsSpread?: number;
  /** Soak: RSS after warm-up and at the end. */
  readonly rssStartMb?: number;
  readonly rssEndMb?: number;
}

/**
 * Of several rounds of one target, the fastest (highest req/s), noting the spread. Interference on
 * a shared machine (other tenants, the idle processes' GC) only ever slows a round down, so the best
 * round is the steadiest estimate of what each target can do. Memory is the exception: the peak
 * RSS reported is the highest of all rounds (a peak is a peak).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bestRound, type Measurement } from "./measurement.ts";
 * const round = (rps: number, peakRssMb: number): Measurement =>
 *   ({ scenario: "s", label: "s", target: "gateway", kind: "requests", requests: 1, errors: 0, rps, peakRssMb });
 * const best = bestRound([round(90, 200), round(100, 150)]);
 * assert.equal(best.rps, 100);
 * assert.equal(best.peakRssMb, 200);
 * assert.equal(best.rpsSpread, 0.1);
 * ```
 */
export function bestRound(rounds: readonly Measurement[]): Measurement {
  if (rounds.length === 1) return rounds[0];
  const sorted = [...rounds].sort((a, b) => (a.rps ?? 0) - (b.rps ?? 0));
  const best = sorted[sorted.length - 1];
  const low = sorted[0].rps ?? 0;
  const peaks = rounds.map((r) => r.peakRssMb).filter((v) => v !== undefined);
  return {
    ...best,
    rpsSpread: best.rps ? (best.rps - low) / best.rps : undefined,
    peakRssMb: peaks.length ? Math.max(...peaks) : undefined,
  };
}

/** CPU µs per streamed chunk: the whole stream's CPU over its chunks. */
export function cpuPerChunk(m: Measurement | undefined): number | undefined {
  return m?.cpuUsPerRequest === undefined ? undefined : m.cpuUsPerRequest / STREAM_CHUNKS;
}

/** The row of `target` in `scenario`. */
export function find(
  rows: readonly Measurement[],
  scenario: string,
  target: Measurement["target"],
): Measurement | undefined {
  return rows.find((m) => m.scenario === scenario && m.target === target);
}
