/**
 * `least-connections`: the candidate with the fewest in-flight requests per unit of weight.
 *
 * Ties — and loads within 5 % of the least (`NEAR_TIE`) — are shared by smooth weighted round
 * robin (`least_cost.ts`), so weights hold at any load: at low load every pick sees nothing in
 * flight anywhere, and a rule that looked only at the counts would send every sequential request
 * to the same member (nginx breaks `least_conn` ties with its weighted round robin for the same
 * reason).
 *
 * @module
 */

import type { Endpoint, PickContext, Strategy } from "../types.ts";
import { LeastCostScan } from "./least_cost.ts";
import { validateMembers } from "./validate.ts";

class LeastConnections<E extends Endpoint> implements Strategy<E> {
  private readonly scan: LeastCostScan<E>;

  constructor(members: readonly E[]) {
    this.scan = new LeastCostScan(members);
  }

  pick(ctx: PickContext<E>): E | undefined {
    const scan = this.scan;
    if (scan.begin(ctx.eligible) === 0) return undefined;
    const members = scan.members;
    for (let i = 0; i < members.length; i++) {
      if (!scan.has(i)) continue;
      const s = members[i].stats;
      scan.offer(i, 0, (s.inFlight + (s.peers?.inFlight ?? 0)) / scan.weight(i));
    }
    return scan.choose();
  }
}

/**
 * Creates the `least-connections` strategy: lowest `stats.inFlight / weight` among the eligible
 * members (weight-0 members, counted as weight 1, only when no weighted member is eligible);
 * loads within 5 % of the lowest are shared in the ratio of the weights. In a cluster, `inFlight`
 * is this process's count plus what the other workers and replicas last reported
 * (`stats.peers.inFlight`). Deterministic: no randomness is used. The dispatcher must keep
 * `inFlight` exact (+1 when an attempt starts, -1 exactly once when its body ends), since the
 * choice depends on nothing else.
 *
 * @throws {RangeError} when a weight is negative or not finite, or ids repeat.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { leastConnections } from "./least_connections.ts";
 * const stats = (inFlight: number) => ({ inFlight, latencyEwmaMs: 0, errorEwma: 0 });
 * const members = [{ id: "a", weight: 2, stats: stats(3) }, { id: "b", weight: 1, stats: stats(1) }];
 * const strategy = leastConnections(members);
 * // a carries 3/2 = 1.5 per unit of weight, b carries 1.
 * assert.equal(strategy.pick({})?.id, "b");
 * // Nothing in flight: sequential requests follow the weights 2:1.
 * members[0].stats.inFlight = members[1].stats.inFlight = 0;
 * assert.equal([1, 2, 3, 4, 5, 6].map(() => strategy.pick({})?.id).join(""), "abaaba");
 * ```
 */
export function leastConnections<E extends Endpoint>(members: readonly E[]): Strategy<E> {
  return new LeastConnections(validateMembers("least-connections", members));
}
