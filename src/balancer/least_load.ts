/**
 * `least-load`: the instance with the least engine work per unit of weight, from what the engines
 * report (`PickContext.load`, fed by `src/signals`), falling back to the gateway's own in-flight
 * count for an instance whose signal is missing or stale.
 *
 * @module
 */

import type { Endpoint, EngineLoad, PickContext, Strategy, StrategyOptions } from "../types.ts";
import { LeastCostScan } from "./least_cost.ts";
import { validateMembers } from "./validate.ts";

/**
 * How much more a queued request weighs than a running one. A running request shares the batch
 * (each decode step gets a little slower); a queued one says the batch is full, and a new request
 * will wait behind every queued one before its first token.
 */
export const WAITING_WEIGHT = 4;

/** How much a full KV cache multiplies the work: (work + 1) × (1 + KV_PENALTY × excess) − 1. */
export const KV_PENALTY = 10;

/** Default `kv-saturation`: KV-cache use above which an instance is penalised. */
export const DEFAULT_KV_SATURATION = 0.9;

/**
 * The work waiting at an instance, in requests: `WAITING_WEIGHT × waiting + running` from a
 * trusted engine load, else the gateway's `inFlight`. A KV cache above `saturation` multiplies it,
 * up to (1 + KV_PENALTY) at a full cache — an engine that must evict or preempt answers late,
 * even with a short queue — and adds as much as that much work when it is idle. A load whose work
 * is NaN is no reading: judged by `inFlight` like a missing one, never as idle (0); `src/signals`
 * refuses non-finite totals already, this keeps the strategy safe from any other source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { engineWork } from "./least_load.ts";
 * assert.equal(engineWork(3, { waiting: 2, running: 5 }, 0.9), 13); // 4 × 2 + 5
 * assert.equal(engineWork(3, undefined, 0.9), 3); // no signal: in flight
 * assert.equal(engineWork(0, { waiting: 0, running: 0, kvUsage: 1 }, 0.9), 10); // full cache
 * ```
 */
export function engineWork(inFlight: number, load: EngineLoad | undefined, saturation: number): number {
  let work = inFlight;
  if (load !== undefined && (load.waiting !== undefined || load.running !== undefined)) {
    const reported = WAITING_WEIGHT * (load.waiting ?? 0) + (load.running ?? 0);
    if (!Number.isNaN(reported)) work = reported;
  }
  const kv = load?.kvUsage;
  if (kv !== undefined && kv > saturation) {
    const excess = saturation >= 1 ? 1 : Math.min(1, (kv - saturation) / (1 - saturation));
    work = (work + 1) * (1 + KV_PENALTY * excess) - 1;
  }
  return work > 0 ? work : 0;
}

/**
 * Checks the `kvSaturation` option: a number in (0, 1].
 *
 * @throws {RangeError} otherwise.
 */
export function validateSaturation(strategy: string, value: number | undefined): number {
  const v = value ?? DEFAULT_KV_SATURATION;
  if (typeof v !== "number" || !(v > 0 && v <= 1)) {
    throw new RangeError(
      `Cannot create ${strategy} strategy: "kvSaturation" must be a number in (0, 1], received ${value}`,
    );
  }
  return v;
}

class LeastLoad<E extends Endpoint> implements Strategy<E> {
  private readonly scan: LeastCostScan<E>;
  private readonly saturation: number;

  constructor(members: readonly E[], saturation: number) {
    this.scan = new LeastCostScan(members);
    this.saturation = saturation;
  }

  pick(ctx: PickContext<E>): E | undefined {
    const scan = this.scan;
    if (scan.begin(ctx.eligible) === 0) return undefined;
    const members = scan.members;
    const load = ctx.load;
    for (let i = 0; i < members.length; i++) {
      if (!scan.has(i)) continue;
      const m = members[i];
      const work = engineWork(m.stats.inFlight, load === undefined ? undefined : load(m), this.saturation);
      scan.offer(i, 0, work / scan.weight(i));
    }
    return scan.choose();
  }
}

/**
 * Creates the `least-load` strategy: the lowest {@linkcode engineWork} per unit of weight among
 * the eligible members. `PickContext.load` gives each member's trusted, corrected engine load
 * (queue and batch reported by the engine at its last scrape, plus what the gateway sent since,
 * minus what finished); a member without one — never scraped, scrape failing, reading older than
 * `stale-after` — is judged by its in-flight count, which makes the strategy `least-connections`
 * when no signal is trusted. Work within 5 % of the least is shared by smooth weighted round
 * robin, so idle instances take traffic in the ratio of their weights. Weight-0 members, counted
 * as weight 1, only when no weighted member is eligible. Deterministic.
 *
 * @throws {RangeError} when a weight is negative or not finite, ids repeat, or `kvSaturation` is
 *   not in (0, 1].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { leastLoad } from "./least_load.ts";
 * const stats = () => ({ inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 });
 * const members = [{ id: "a", weight: 1, stats: stats() }, { id: "b", weight: 1, stats: stats() }];
 * const strategy = leastLoad(members, { random: Math.random, hashAlgorithm: "fnv1a", loadFactor: 1.25 });
 * const loads = new Map([["a", { waiting: 3, running: 8 }], ["b", { waiting: 0, running: 10 }]]);
 * // a: 4 × 3 + 8 = 20, b: 10.
 * assert.equal(strategy.pick({ load: (m) => loads.get(m.id) })?.id, "b");
 * ```
 */
export function leastLoad<E extends Endpoint>(members: readonly E[], options: StrategyOptions): Strategy<E> {
  const list = validateMembers("least-load", members);
  return new LeastLoad(list, validateSaturation("least-load", options.kvSaturation));
}
