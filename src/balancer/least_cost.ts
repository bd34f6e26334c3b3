/**
 * The scan of the cost-based strategies that must honour weights at any load (`least-latency`,
 * `least-load`, `prefix-affinity`'s fallback): the lowest rank, then the lowest cost — and among
 * candidates whose costs are within {@linkcode NEAR_TIE} of the lowest, smooth weighted round
 * robin (nginx's `current_weight`), so that equal candidates share traffic in the ratio of their
 * weights instead of the heaviest taking every request.
 *
 * Why the tie needs memory: at low load every pick sees the same state (nothing in flight), so
 * a rule that looks only at the state sends every request to the same member. nginx breaks
 * `least_conn` ties with its weighted round robin for the same reason. The tolerance makes
 * measured costs that differ only by noise (latency EWMAs of identical machines) count as equal.
 *
 * A pick allocates nothing: costs, ranks and credits live in arrays made once per strategy.
 *
 * @module
 */

import type { Endpoint } from "../types.ts";
import { Candidates } from "./candidates.ts";

/** Costs within this fraction of the lowest one are shared by weighted round robin. */
export const NEAR_TIE = 0.05;

/**
 * Per-strategy scan: {@linkcode LeastCostScan.begin}, {@linkcode LeastCostScan.offer} each candidate
 * ({@linkcode LeastCostScan.has}), then {@linkcode LeastCostScan.choose}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LeastCostScan } from "./least_cost.ts";
 * const stats = () => ({ inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 });
 * const scan = new LeastCostScan([
 *   { id: "a", weight: 2, stats: stats() },
 *   { id: "b", weight: 1, stats: stats() },
 * ]);
 * const pick = () => {
 *   scan.begin(undefined);
 *   for (let i = 0; i < scan.members.length; i++) if (scan.has(i)) scan.offer(i, 0, 0);
 *   return scan.choose()?.id;
 * };
 * // Equal costs: shared 2:1, spread out (smooth weighted round robin).
 * assert.equal([pick(), pick(), pick(), pick(), pick(), pick()].join(""), "abaaba");
 * ```
 */
export class LeastCostScan<E extends Endpoint> {
  /** The members, in construction order; indexes refer to this list. */
  readonly members: readonly E[];
  private readonly candidates: Candidates<E>;
  private readonly costs: Float64Array;
  private readonly ranks: Uint8Array;
  private readonly credit: Float64Array;
  private minRank = 255;
  private minCost = Infinity;
  /** Index of the member the last {@linkcode LeastCostScan.choose} returned (-1: none). */
  chosen = -1;

  /** `members` is kept as given (callers pass a validated private copy). */
  constructor(members: readonly E[]) {
    this.members = members;
    this.candidates = new Candidates(members);
    this.costs = new Float64Array(members.length);
    this.ranks = new Uint8Array(members.length);
    this.credit = new Float64Array(members.length);
  }

  /** Starts a pick: evaluates `eligible` once per member; returns the number of candidates. */
  begin(eligible: ((endpoint: E) => boolean) | undefined): number {
    this.minRank = 255;
    this.minCost = Infinity;
    return this.candidates.scan(eligible);
  }

  /** Whether member `i` is a candidate of this pick. */
  has(i: number): boolean {
    return this.candidates.has(i);
  }

  /** Effective weight of candidate `i`: its weight, or 1 in the weight-0 tier. */
  weight(i: number): number {
    return this.candidates.weight(i);
  }

  /** True when this pick fell back to the weight-0 tier. */
  get zeroTier(): boolean {
    return this.candidates.zeroTier;
  }

  /** Offers candidate `i` with a `rank` (0..254, lowest first) and a cost (>= 0, lowest first). */
  offer(i: number, rank: number, cost: number): void {
    this.ranks[i] = rank;
    this.costs[i] = cost;
    if (rank < this.minRank || (rank === this.minRank && cost < this.minCost)) {
      this.minRank = rank;
      this.minCost = cost;
    }
  }

  /** The pick among the offered candidates (see the module doc), or `undefined` when none was offered. */
  choose(): E | undefined {
    const rank = this.minRank;
    this.chosen = -1;
    if (rank === 255) return undefined;
    const limit = this.minCost + this.minCost * NEAR_TIE + 1e-12;
    const members = this.members;
    const credit = this.credit;
    let best = -1;
    let total = 0;
    for (let i = 0; i < members.length; i++) {
      if (!this.candidates.has(i) || this.ranks[i] !== rank || this.costs[i] > limit) continue;
      const w = this.candidates.weight(i);
      credit[i] += w;
      total += w;
      if (best === -1 || credit[i] > credit[best]) best = i;
    }
    credit[best] -= total;
    this.chosen = best;
    return members[best];
  }
}
