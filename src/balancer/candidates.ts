/**
 * The candidate set of one pick: which members are eligible now, and with which effective
 * weight. Every strategy that needs the whole eligible set goes through {@linkcode Candidates},
 * so the weight-0 rule lives in one place:
 *
 * - members with weight > 0 form the first tier, weighted by their weight;
 * - members with weight 0 are candidates only when the first tier is empty, and then count as
 *   weight 1 each (they are interchangeable spares).
 *
 * The scan writes into arrays allocated once per strategy, so a pick allocates nothing. Picks are
 * synchronous, so one scratch buffer per strategy cannot be shared by two picks at a time.
 *
 * @module
 */

import type { Endpoint } from "../types.ts";

const NONE = 0;
const POSITIVE = 1;
const ZERO = 2;

/**
 * Per-strategy scratch state describing the eligible members of the current pick.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Candidates } from "./candidates.ts";
 * const stats = () => ({ inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 });
 * const c = new Candidates([
 *   { id: "a", weight: 0, stats: stats() },
 *   { id: "b", weight: 2, stats: stats() },
 * ]);
 * assert.ok(c.scan(undefined) === 1 && c.has(1) && !c.has(0) && c.totalWeight === 2);
 * assert.ok(c.scan((e) => e.id === "a") === 1 && c.has(0) && c.weight(0) === 1);
 * ```
 */
export class Candidates<E extends Endpoint> {
  /** The members, in construction order; indexes below refer to this list. */
  readonly members: readonly E[];
  /** Configured weights, copied once (weights of an instance do not change without a rebuild). */
  readonly weights: Float64Array;
  /** True when all members with weight > 0 share one weight (lets hashing skip logarithms). */
  readonly equalWeights: boolean;
  /** Number of candidates after the last {@linkcode Candidates.scan}. */
  count = 0;
  /** Sum of the candidates' effective weights after the last scan. */
  totalWeight = 0;
  /** True when the last scan fell back to the weight-0 tier. */
  zeroTier = false;
  private tier = NONE;
  private readonly flags: Uint8Array;

  /** Copies the weights; `members` is kept as given (callers pass a private copy). */
  constructor(members: readonly E[]) {
    this.members = members;
    this.weights = new Float64Array(members.length);
    this.flags = new Uint8Array(members.length);
    let common = -1;
    let equal = true;
    for (let i = 0; i < members.length; i++) {
      const w = members[i].weight;
      this.weights[i] = w;
      if (w > 0) {
        if (common === -1) common = w;
        else if (w !== common) equal = false;
      }
    }
    this.equalWeights = equal;
  }

  /**
   * Evaluates `eligible` once per member (all members when absent) and selects the tier.
   * Returns the number of candidates; 0 means the pick must return `undefined`.
   */
  scan(eligible: ((endpoint: E) => boolean) | undefined): number {
    const members = this.members;
    const weights = this.weights;
    const flags = this.flags;
    let positive = 0;
    let zero = 0;
    let total = 0;
    for (let i = 0; i < members.length; i++) {
      if (eligible !== undefined && !eligible(members[i])) {
        flags[i] = NONE;
      } else if (weights[i] > 0) {
        flags[i] = POSITIVE;
        positive++;
        total += weights[i];
      } else {
        flags[i] = ZERO;
        zero++;
      }
    }
    if (positive > 0) {
      this.tier = POSITIVE;
      this.count = positive;
      this.totalWeight = total;
    } else {
      this.tier = zero > 0 ? ZERO : NONE;
      this.count = zero;
      this.totalWeight = zero;
    }
    this.zeroTier = this.tier === ZERO;
    return this.count;
  }

  /** Whether member `i` is a candidate of the last scan. */
  has(i: number): boolean {
    return this.tier !== NONE && this.flags[i] === this.tier;
  }

  /** Effective weight of candidate `i`: its weight, or 1 in the weight-0 tier. */
  weight(i: number): number {
    return this.tier === ZERO ? 1 : this.weights[i];
  }

  /**
   * Weighted draw among the candidates for a uniform `u` in [0, 1), optionally leaving out
   * candidate `exclude` (for a second, distinct draw). Returns a member index, or -1 when
   * nothing is left.
   */
  sample(u: number, exclude = -1): number {
    const tier = this.tier;
    if (tier === NONE) return -1;
    const flags = this.flags;
    const weights = this.weights;
    const ones = tier === ZERO;
    const total = exclude >= 0 && flags[exclude] === tier
      ? this.totalWeight - (ones ? 1 : weights[exclude])
      : this.totalWeight;
    const target = u * total;
    let acc = 0;
    let last = -1;
    for (let i = 0; i < flags.length; i++) {
      if (flags[i] !== tier || i === exclude) continue;
      acc += ones ? 1 : weights[i];
      last = i;
      if (acc > target) return i;
    }
    // Rounding can leave the running sum a hair below the target: the last candidate owns it.
    return last;
  }
}
