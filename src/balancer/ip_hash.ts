/**
 * `ip-hash`: client affinity by consistent hashing of the pick's key (client IP, a header or the
 * body's `user`), implemented as weighted rendezvous hashing (see `rendezvous.ts`).
 *
 * The same key reaches the same member while that member stays eligible. An ineligible member is
 * skipped by taking the key's next-best member, so removing one of N members remaps only the keys
 * it owned (≈ 1/N), and they come back when it does.
 *
 * @module
 */

import type { Endpoint, PickContext, Random, Strategy, StrategyOptions } from "../types.ts";
import { Candidates } from "./candidates.ts";
import { createHasher, type Hasher } from "./hash.ts";
import { hashMembers, rendezvousPoint, rendezvousScoreAbove } from "./rendezvous.ts";
import { validateHashAlgorithm, validateMembers, validateRandom } from "./validate.ts";

class IpHash<E extends Endpoint> implements Strategy<E> {
  private readonly candidates: Candidates<E>;
  private readonly random: Random;
  private readonly hasher: Hasher;
  private readonly memberHashes: Uint32Array;

  constructor(members: readonly E[], random: Random, hasher: Hasher) {
    this.candidates = new Candidates(members);
    this.random = random;
    this.hasher = hasher;
    this.memberHashes = hashMembers(members, hasher);
  }

  pick(ctx: PickContext<E>): E | undefined {
    const c = this.candidates;
    const key = ctx.key;
    if (key === undefined || key === "") {
      if (c.scan(ctx.eligible) === 0) return undefined;
      return c.members[c.sample(this.random())];
    }
    const members = c.members;
    const weights = c.weights;
    const hashes = this.memberHashes;
    const eligible = ctx.eligible;
    const equal = c.equalWeights;
    const keyHash = this.hasher(key);
    // Scores are computed first and `eligible` is asked only of a member that would become the
    // new best: about ln(N) calls per pick instead of N.
    let best = -1;
    let bestScore = 0;
    let spare = -1;
    let spareScore = 0;
    for (let i = 0; i < members.length; i++) {
      const point = rendezvousPoint(keyHash, hashes[i]);
      const w = weights[i];
      if (w > 0) {
        const score = equal ? point : rendezvousScoreAbove(point, w, bestScore);
        if ((best === -1 || score > bestScore) && (eligible === undefined || eligible(members[i]))) {
          best = i;
          bestScore = score;
        }
      } else if (best === -1 && (spare === -1 || point > spareScore)) {
        // Weight-0 spares matter only if no weighted member turns out eligible.
        if (eligible === undefined || eligible(members[i])) {
          spare = i;
          spareScore = point;
        }
      }
    }
    if (best !== -1) return members[best];
    return spare === -1 ? undefined : members[spare];
  }
}

/**
 * Creates the `ip-hash` strategy over `options.hashAlgorithm` (fnv1a is the fast default).
 *
 * - With a key: the member with the highest rendezvous score for that key among the eligible
 *   ones; a member wins a share of keys proportional to its weight.
 * - Without a key (`undefined` or `""`, which would otherwise pin every key-less client to
 *   one member): weighted random, one `random()` call.
 * - Weight-0 members get keys only when no weighted member is eligible.
 *
 * `eligible` is called for a subset of members, at most once each per pick.
 *
 * @throws {RangeError} when a weight is negative or not finite, ids repeat, or the hash algorithm
 *   is unknown.
 * @throws {TypeError} when `random` is not a function.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ipHash } from "./ip_hash.ts";
 * const stats = () => ({ inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 });
 * const members = ["a", "b", "c"].map((id) => ({ id, weight: 1, stats: stats() }));
 * const strategy = ipHash(members, { random: () => 0.5, hashAlgorithm: "fnv1a" });
 * const first = strategy.pick({ key: "10.0.0.7" });
 * assert.equal(strategy.pick({ key: "10.0.0.7" }), first);
 * // Its instance is down: the key moves, the others stay put.
 * const moved = strategy.pick({ key: "10.0.0.7", eligible: (m) => m !== first });
 * assert.ok(moved !== undefined && moved !== first);
 * ```
 */
export function ipHash<E extends Endpoint>(
  members: readonly E[],
  options: Pick<StrategyOptions, "random" | "hashAlgorithm">,
): Strategy<E> {
  const list = validateMembers("ip-hash", members);
  const random = validateRandom("ip-hash", options.random);
  const hasher = createHasher(validateHashAlgorithm("ip-hash", options.hashAlgorithm));
  return new IpHash(list, random, hasher);
}
