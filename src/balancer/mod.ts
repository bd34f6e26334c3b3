/**
 * Load-balancing strategies: pure choosers over a fixed member list. A strategy is built once per
 * pool (and rebuilt on a config reload) and asked once per attempt to pick one eligible member.
 * Strategies never see HTTP, timers or I/O; randomness comes in through `options.random`, and live
 * load through each member's mutable `stats`.
 *
 * | name                      | chooses                                              |
 * | ------------------------- | ---------------------------------------------------- |
 * | `random`                  | weighted random                                      |
 * | `round-robin`             | smooth weighted round robin (nginx)                  |
 * | `least-connections`       | lowest inFlight / weight                             |
 * | `ip-hash`                 | consistent (rendezvous) hashing of the key           |
 * | `power-of-two`            | better of two weighted-random draws                  |
 * | `least-latency`           | lowest latency EWMA × error penalty × queue / weight |
 * | `consistent-hash-bounded` | consistent hashing with bounded loads                |
 * | `least-load`              | least engine work (queue, batch, KV) / weight        |
 * | `prefix-affinity`         | longest cached prompt prefix, bounded by load        |
 *
 * Rules shared by all: weight-0 members are chosen only when no eligible member has weight > 0;
 * `pick` returns `undefined` when nothing is eligible; `eligible` is called at most once per
 * member per pick and must not have side effects; a pick allocates nothing that grows with the
 * number of members. `createStrategy` wraps every strategy in `preferResident` (`residency.ts`):
 * when engine signals say some instance has the model loaded, instances known not to have it are
 * skipped.
 *
 * @module
 */

import type { Endpoint, Strategy, StrategyName, StrategyOptions } from "../types.ts";
import { consistentHashBounded } from "./consistent_hash_bounded.ts";
import { ipHash } from "./ip_hash.ts";
import { leastConnections } from "./least_connections.ts";
import { leastLatency } from "./least_latency.ts";
import { leastLoad } from "./least_load.ts";
import { powerOfTwo } from "./power_of_two.ts";
import { prefixAffinity } from "./prefix_affinity.ts";
import { preferResident } from "./residency.ts";
import { weightedRandom } from "./random.ts";
import { roundRobin } from "./round_robin.ts";

export { consistentHashBounded } from "./consistent_hash_bounded.ts";
export { ipHash } from "./ip_hash.ts";
export { leastConnections } from "./least_connections.ts";
export { ERROR_PENALTY, leastLatency } from "./least_latency.ts";
export { DEFAULT_KV_SATURATION, engineWork, KV_PENALTY, leastLoad, WAITING_WEIGHT } from "./least_load.ts";
export { LeastCostScan, NEAR_TIE } from "./least_cost.ts";
export { prefixAffinity } from "./prefix_affinity.ts";
export { DEFAULT_PREFIX_CACHE_SIZE, PrefixCache } from "./prefix_cache.ts";
export {
  DEFAULT_BLOCK_SIZE,
  DEFAULT_MAX_BLOCKS,
  hashPrompt,
  promptHasher,
  type PromptHashOptions,
} from "./prompt_hash.ts";
export { preferResident } from "./residency.ts";
export { powerOfTwo } from "./power_of_two.ts";
export { weightedRandom } from "./random.ts";
export { roundRobin } from "./round_robin.ts";
export { createHasher, fnv1a32, hash32, HASH_ALGORITHMS, type Hasher } from "./hash.ts";
export {
  DEFAULT_ERROR_ALPHA,
  DEFAULT_LATENCY_ALPHA,
  MIN_LATENCY_MS,
  observeLatency,
  observeOutcome,
} from "./ewma.ts";

/** Builds a strategy of one kind over `members`. */
export type StrategyFactory = <E extends Endpoint>(
  members: readonly E[],
  options: StrategyOptions,
) => Strategy<E>;

/** The static registry: every `load-balance.type`, and the factory behind it. */
export const STRATEGIES: Readonly<Record<StrategyName, StrategyFactory>> = Object.freeze({
  "random": weightedRandom,
  "round-robin": roundRobin,
  "least-connections": leastConnections,
  "ip-hash": ipHash,
  "power-of-two": powerOfTwo,
  "least-latency": leastLatency,
  "consistent-hash-bounded": consistentHashBounded,
  "least-load": leastLoad,
  "prefix-affinity": prefixAffinity,
});

/** Every strategy name, in the order of {@linkcode STRATEGIES}. */
export const STRATEGY_NAMES: readonly StrategyName[] = Object.freeze(
  Object.keys(STRATEGIES) as StrategyName[],
);

/**
 * Creates the strategy `name` over `members`. Options a strategy does not use are ignored, but
 * each strategy validates the ones it uses.
 *
 * @throws {RangeError} for an unknown `name`, a weight that is negative or not finite, repeated
 *   ids, an unknown hash algorithm, or (for `consistent-hash-bounded`) a `loadFactor` below 1.
 * @throws {TypeError} when `random` is not a function.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStrategy } from "./mod.ts";
 * const stats = () => ({ inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 });
 * const members = [{ id: "a", weight: 2, stats: stats() }, { id: "b", weight: 1, stats: stats() }];
 * const strategy = createStrategy("round-robin", members, {
 *   random: () => 0.5,
 *   hashAlgorithm: "fnv1a",
 *   loadFactor: 1.25,
 * });
 * const tried = new Set<string>();
 * const first = strategy.pick({ key: "10.0.0.1" })!;
 * tried.add(first.id);
 * // A retry excludes what was already tried.
 * const retry = strategy.pick({ key: "10.0.0.1", eligible: (m) => !tried.has(m.id) });
 * assert.ok(retry !== undefined && retry !== first);
 * ```
 */
export function createStrategy<E extends Endpoint>(
  name: StrategyName,
  members: readonly E[],
  options: StrategyOptions,
): Strategy<E> {
  const factory = Object.hasOwn(STRATEGIES, name) ? STRATEGIES[name] : undefined;
  if (factory === undefined) {
    throw new RangeError(
      `Cannot create strategy: "type" must be one of ${STRATEGY_NAMES.join(", ")}, received ${
        JSON.stringify(name)
      }`,
    );
  }
  return preferResident(factory(members, options), members);
}
