/**
 * The `outlier-detection` block (global and per service, like `health-check`): schema, defaults and
 * resolution, kept in one file beside the others. The detector itself is `src/health/outlier.ts`.
 *
 * ```yaml
 * model:
 *   outlier-detection:        # global; a service's own block wins key by key
 *     enabled: true
 *     interval: 1s            # time between two checks
 *     factor: 10              # a wait this many times the pool's p90 first-byte time…
 *     min-wait: 10s           # …and at least this long makes an instance an outlier
 *     base-ejection-time: 30s # first ejection; the k-th in a row lasts k times as long
 *     max-ejection-time: 300s # never longer
 *     max-ejection-percent: 10  # of a pool at once (at least one instance; never the last)
 * ```
 *
 * @module
 */

import { z } from "zod";
import type { OutlierOptions } from "../health/outlier.ts";
import { bool, duration, num } from "./schema_common.ts";

/** The resolved `outlier-detection` of a service. */
export interface OutlierConfig extends OutlierOptions {
  readonly enabled: boolean;
}

/**
 * Defaults: on. An instance is ejected only when its oldest request has waited ten times the pool's
 * p90 first-byte time (at least 10 s), it delivered nothing meanwhile, and the other instances went
 * on answering requests that came later — the signature of a hung instance, not of a busy one — and
 * at most 10 % of a pool at once (at least one, never the last); Envoy's 30 s / 300 s ejection times.
 */
export const OUTLIER_DEFAULTS: OutlierConfig = {
  enabled: true,
  intervalMs: 1000,
  factor: 10,
  minWaitMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 10,
};

/** The `outlier-detection` block of the global level and of a service. */
export const outlierBlock = z.strictObject({
  enabled: bool(),
  interval: duration(0, false),
  factor: num(z.number().gt(1)),
  minWait: duration(0, false),
  baseEjectionTime: duration(0, false),
  maxEjectionTime: duration(0, false),
  maxEjectionPercent: num(z.number().min(0).max(100)),
});

type Block = z.output<typeof outlierBlock> | undefined;

function first<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

/**
 * Resolves `outlier-detection` from the most specific block to the least, key by key. A
 * `max-ejection-time` below the base ejection time is raised to it (Envoy does the same).
 */
export function resolveOutlier(blocks: readonly Block[]): OutlierConfig {
  const d = OUTLIER_DEFAULTS;
  const base = first(...blocks.map((b) => b?.baseEjectionTime)) ?? d.baseEjectionTimeMs;
  return {
    enabled: first(...blocks.map((b) => b?.enabled)) ?? d.enabled,
    intervalMs: first(...blocks.map((b) => b?.interval)) ?? d.intervalMs,
    factor: first(...blocks.map((b) => b?.factor)) ?? d.factor,
    minWaitMs: first(...blocks.map((b) => b?.minWait)) ?? d.minWaitMs,
    baseEjectionTimeMs: base,
    maxEjectionTimeMs: Math.max(base, first(...blocks.map((b) => b?.maxEjectionTime)) ?? d.maxEjectionTimeMs),
    maxEjectionPercent: first(...blocks.map((b) => b?.maxEjectionPercent)) ?? d.maxEjectionPercent,
  };
}
