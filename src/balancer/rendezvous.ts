/**
 * Weighted rendezvous (highest random weight) hashing, shared by `ip-hash` and
 * `consistent-hash-bounded`.
 *
 * Every (key, member) pair gets a pseudo-random point u in (0, 1); the member with the highest
 * score `weight / -ln(u)` wins. -ln(u) / weight is exponentially distributed with rate `weight`,
 * so member i wins a random key with probability weight_i / sum(weights), exactly. Because each
 * member's score depends only on the key and that member, removing a member moves only the keys
 * it owned, and adding one moves only the keys it now wins: the minimal-disruption property of a
 * hash ring, without virtual nodes, their memory or their balance error. Each member's hash is
 * computed once at construction; a pick hashes the key once and mixes it with each member hash.
 *
 * @module
 */

import type { Endpoint } from "../types.ts";
import { type Hasher, mix32 } from "./hash.ts";

const TWO_POW_32 = 4294967296;

/**
 * Hashes every member id once, at construction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashMembers } from "./rendezvous.ts";
 * import { fnv1a32 } from "./hash.ts";
 * const stats = { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 };
 * const hashes = hashMembers([{ id: "a", weight: 1, stats }], fnv1a32);
 * assert.equal(hashes[0], fnv1a32("a"));
 * ```
 */
export function hashMembers(members: readonly Endpoint[], hasher: Hasher): Uint32Array {
  const out = new Uint32Array(members.length);
  for (let i = 0; i < members.length; i++) out[i] = hasher(members[i].id);
  return out;
}

/**
 * The uint32 point of a (key, member) pair. XOR then the murmur3 finalizer: a bijection with full
 * avalanche, so points of one key across members behave as independent draws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rendezvousPoint } from "./rendezvous.ts";
 * assert.notEqual(rendezvousPoint(1, 2), rendezvousPoint(1, 3));
 * ```
 */
export function rendezvousPoint(keyHash: number, memberHash: number): number {
  return mix32(keyHash ^ memberHash);
}

/**
 * The weighted score of a point: `weight / -ln(u)` with u = (point + 0.5) / 2^32 in (0, 1).
 * Higher wins. For equal weights the order of scores is the order of points, so callers compare
 * points directly and skip the logarithm.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rendezvousScore } from "./rendezvous.ts";
 * // Same point: the heavier member scores higher.
 * assert.ok(rendezvousScore(123456, 2) > rendezvousScore(123456, 1));
 * ```
 */
export function rendezvousScore(point: number, weight: number): number {
  return weight / -Math.log((point + 0.5) / TWO_POW_32);
}

/**
 * {@linkcode rendezvousScore}, or 0 when the score cannot exceed `floor` (scores are always > 0).
 * Since -ln(u) >= 1 - u, `weight / (1 - u)` bounds the score from above: once a good candidate is
 * known, most members are ruled out by one division instead of a logarithm.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rendezvousScore, rendezvousScoreAbove } from "./rendezvous.ts";
 * const point = 2 ** 31;
 * assert.equal(rendezvousScoreAbove(point, 1, 0), rendezvousScore(point, 1));
 * assert.equal(rendezvousScoreAbove(point, 1, 1e9), 0);
 * ```
 */
export function rendezvousScoreAbove(point: number, weight: number, floor: number): number {
  const u = (point + 0.5) / TWO_POW_32;
  if (weight / (1 - u) <= floor) return 0;
  return weight / -Math.log(u);
}
