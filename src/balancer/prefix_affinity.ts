/**
 * `prefix-affinity`: send a prompt to the instance that most recently served its longest prefix,
 * whose engine's prefix cache (vLLM automatic prefix caching, SGLang's radix cache, llama.cpp's
 * slot cache) then skips recomputing it — unless that instance is overloaded.
 *
 * @module
 */

import type { Endpoint, PickContext, Strategy, StrategyOptions } from "../types.ts";
import { LeastCostScan } from "./least_cost.ts";
import { engineWork, validateSaturation } from "./least_load.ts";
import { DEFAULT_PREFIX_CACHE_SIZE, PrefixCache } from "./prefix_cache.ts";
import { validateLoadFactor, validateMembers } from "./validate.ts";

const NAME = "prefix-affinity";

class PrefixAffinity<E extends Endpoint> implements Strategy<E> {
  private readonly scan: LeastCostScan<E>;
  private readonly caches: PrefixCache[];
  private readonly work: Float64Array;
  private readonly saturation: number;
  private readonly loadFactor: number;

  constructor(members: readonly E[], saturation: number, loadFactor: number, cacheSize: number) {
    this.scan = new LeastCostScan(members);
    this.caches = members.map(() => new PrefixCache(cacheSize));
    this.work = new Float64Array(members.length);
    this.saturation = saturation;
    this.loadFactor = loadFactor;
  }

  pick(ctx: PickContext<E>): E | undefined {
    const scan = this.scan;
    if (scan.begin(ctx.eligible) === 0) return undefined;
    const members = scan.members;
    const load = ctx.load;
    const hashes = ctx.promptHashes;
    const work = this.work;
    let totalWork = 0;
    let totalWeight = 0;
    let home = -1;
    let homeMatch = 0;
    let homeCost = 0;
    for (let i = 0; i < members.length; i++) {
      if (!scan.has(i)) continue;
      const m = members[i];
      const w = scan.weight(i);
      work[i] = engineWork(m.stats.inFlight, load === undefined ? undefined : load(m), this.saturation);
      totalWork += work[i];
      totalWeight += w;
      const cost = work[i] / w;
      scan.offer(i, 0, cost);
      if (hashes === undefined || hashes.length === 0) continue;
      const match = this.caches[i].longestMatch(hashes);
      if (match > homeMatch || (match === homeMatch && match > 0 && cost < homeCost)) {
        home = i;
        homeMatch = match;
        homeCost = cost;
      }
    }
    let picked = -1;
    if (home !== -1) {
      // The bounded-load rule of consistent-hash-bounded, on engine work.
      const bound = Math.ceil((this.loadFactor * (totalWork + 1) * scan.weight(home)) / totalWeight);
      if (work[home] + 1 <= bound) picked = home;
    }
    const chosen = picked === -1 ? scan.choose() : members[picked];
    if (chosen !== undefined && hashes !== undefined && hashes.length > 0) {
      this.caches[picked === -1 ? scan.chosen : picked].remember(hashes);
    }
    return chosen;
  }
}

/**
 * Creates the `prefix-affinity` strategy. `PickContext.promptHashes` carries the request's prompt
 * as chained block hashes (`hashPrompt()`): equal leading hashes mean an equal prefix. Each member
 * remembers the chains it was given in a bounded {@linkcode PrefixCache} (`prefixCacheSize` hashes,
 * default 8192). A pick:
 *
 * 1. finds the eligible member with the longest remembered prefix (ties: the least loaded);
 * 2. takes it unless its work (`engineWork`: engine queue and batch when trusted, else in flight)
 *    is above `loadFactor` × its weighted share of the pool's work —
 *    `work + 1 > ⌈loadFactor × (total work + 1) × weight / total weight⌉`, the bound of
 *    `consistent-hash-bounded`;
 * 3. otherwise (no match, or overloaded) picks like `least-load` (like `least-connections` when no
 *    engine signal is trusted);
 *
 * then remembers the chain for the member it picked. A request without hashes is a plain
 * `least-load` pick. The memory starts empty after a config reload. Deterministic.
 *
 * @throws {RangeError} for bad weights or ids, a `loadFactor` below 1, a `kvSaturation` outside
 *   (0, 1], or a `prefixCacheSize` below 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prefixAffinity } from "./prefix_affinity.ts";
 * const stats = () => ({ inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 });
 * const members = [{ id: "a", weight: 1, stats: stats() }, { id: "b", weight: 1, stats: stats() }];
 * const strategy = prefixAffinity(members, { random: Math.random, hashAlgorithm: "fnv1a", loadFactor: 1.25 });
 * const turn1 = strategy.pick({ promptHashes: [101, 102] })!;
 * strategy.pick({ promptHashes: [7] }); // another conversation lands elsewhere
 * assert.equal(strategy.pick({ promptHashes: [101, 102, 103] }), turn1); // the next turn follows
 * ```
 */
export function prefixAffinity<E extends Endpoint>(
  members: readonly E[],
  options: StrategyOptions,
): Strategy<E> {
  const list = validateMembers(NAME, members);
  const size = options.prefixCacheSize ?? DEFAULT_PREFIX_CACHE_SIZE;
  if (!Number.isInteger(size) || size < 2) {
    throw new RangeError(
      `Cannot create ${NAME} strategy: "prefixCacheSize" must be an integer >= 2, received ${size}`,
    );
  }
  return new PrefixAffinity(
    list,
    validateSaturation(NAME, options.kvSaturation),
    validateLoadFactor(NAME, options.loadFactor),
    size,
  );
}
