/**
 * `consistent-hash-bounded`: consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam,
 * "Consistent Hashing with Bounded Loads", SODA 2018).
 *
 * Each key has a preference order over the members (rendezvous order, see `rendezvous.ts`); the
 * key goes to the first eligible member in that order whose load stays within the bound
 *
 *     inFlight + 1 <= ceil(c × (totalInFlight + 1) × weight / totalWeight)
 *
 * where c is `loadFactor`, and the totals run over the eligible candidates. With equal weights
 * that is the paper's ceil(c × (m + 1) / n). The bounds sum to at least c × (m + 1) > m, so some
 * member always fits. Keys keep their member while it is not overloaded, and no member ever takes
 * more than c times its fair share of what is in flight.
 *
 * Why rendezvous order instead of walking a ring: on a ring every key of an overloaded member
 * spills to the same clockwise neighbour, which then overflows in turn (the cascade the paper
 * analyses); with rendezvous each key has its own random second choice, so overflow spreads
 * evenly. Removing a member moves only its keys either way, and the pick stays one pass.
 *
 * @module
 */

import type { Endpoint, PickContext, Random, Strategy, StrategyOptions } from "../types.ts";
import { Candidates } from "./candidates.ts";
import { createHasher, type Hasher } from "./hash.ts";
import { hashMembers, rendezvousPoint, rendezvousScoreAbove } from "./rendezvous.ts";
import { validateHashAlgorithm, validateLoadFactor, validateMembers, validateRandom } from "./validate.ts";

const NAME = "consistent-hash-bounded";
const TWO_POW_32 = 4294967296;

class BoundedConsistentHash<E extends Endpoint> implements Strategy<E> {
  private readonly candidates: Candidates<E>;
  private readonly random: Random;
  private readonly hasher: Hasher;
  private readonly memberHashes: Uint32Array;
  private readonly loadFactor: number;

  constructor(members: readonly E[], random: Random, hasher: Hasher, loadFactor: number) {
    this.candidates = new Candidates(members);
    this.random = random;
    this.hasher = hasher;
    this.memberHashes = hashMembers(members, hasher);
    this.loadFactor = loadFactor;
  }

  pick(ctx: PickContext<E>): E | undefined {
    const c = this.candidates;
    if (c.scan(ctx.eligible) === 0) return undefined;
    const members = c.members;
    const n = members.length;
    let totalInFlight = 0;
    for (let i = 0; i < n; i++) if (c.has(i)) totalInFlight += members[i].stats.inFlight;
    const key = ctx.key;
    // Without a key, a random point keeps the bounded spread without any affinity.
    const keyHash = key === undefined || key === "" ? (this.random() * TWO_POW_32) >>> 0 : this.hasher(key);
    const numerator = this.loadFactor * (totalInFlight + 1);
    const totalWeight = c.totalWeight;
    const equal = c.zeroTier || c.equalWeights;
    const hashes = this.memberHashes;
    let best = -1;
    let bestScore = 0;
    let fallback = -1;
    let fallbackLoad = 0;
    for (let i = 0; i < n; i++) {
      if (!c.has(i)) continue;
      const w = c.weight(i);
      const inFlight = members[i].stats.inFlight;
      if (inFlight + 1 <= Math.ceil((numerator * w) / totalWeight)) {
        const point = rendezvousPoint(keyHash, hashes[i]);
        const score = equal ? point : rendezvousScoreAbove(point, w, bestScore);
        if (best === -1 || score > bestScore) {
          best = i;
          bestScore = score;
        }
      } else if (best === -1 && (fallback === -1 || inFlight / w < fallbackLoad)) {
        // Unreachable in exact arithmetic (see the module doc); kept so that rounding or a
        // caller's negative counter can never turn a pick into `undefined`.
        fallback = i;
        fallbackLoad = inFlight / w;
      }
    }
    return members[best !== -1 ? best : fallback];
  }
}

/**
 * Creates the `consistent-hash-bounded` strategy: affinity by key like `ip-hash`, but a member
 * already carrying more than `loadFactor` × its weighted share of the eligible in-flight requests
 * passes the key on to the key's next preferred member. Keyless picks start from a random point
 * (one `random()` call). Weight-0 members, counted as weight 1, are used only when no weighted
 * member is eligible.
 *
 * @throws {RangeError} when a weight is negative or not finite, ids repeat, the hash algorithm is
 *   unknown, or `loadFactor` is not a finite number >= 1.
 * @throws {TypeError} when `random` is not a function.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { consistentHashBounded } from "./consistent_hash_bounded.ts";
 * const stats = () => ({ inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 });
 * const members = ["a", "b"].map((id) => ({ id, weight: 1, stats: stats() }));
 * const strategy = consistentHashBounded(members, {
 *   random: () => 0.5,
 *   hashAlgorithm: "fnv1a",
 *   loadFactor: 1.25,
 * });
 * const home = strategy.pick({ key: "user-42" })!;
 * home.stats.inFlight = 10; // bound: ceil(1.25 × 11 / 2) = 7, and 10 + 1 > 7
 * assert.notEqual(strategy.pick({ key: "user-42" }), home);
 * ```
 */
export function consistentHashBounded<E extends Endpoint>(
  members: readonly E[],
  options: StrategyOptions,
): Strategy<E> {
  const list = validateMembers(NAME, members);
  const random = validateRandom(NAME, options.random);
  const hasher = createHasher(validateHashAlgorithm(NAME, options.hashAlgorithm));
  return new BoundedConsistentHash(list, random, hasher, validateLoadFactor(NAME, options.loadFactor));
}
