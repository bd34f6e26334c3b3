/**
 * `least-connections`: the candidate with the fewest in-flight requests per unit of weight.
 *
 * Ties (common at low load) go to the heavier member, then to the first one found from a start
 * index that advances by one each pick, so equal idle members take turns instead of the first
 * one in the list absorbing every burst.
 *
 * @module
 */

import type { Endpoint, PickContext, Strategy } from "../types.ts";
import { Candidates } from "./candidates.ts";
import { validateMembers } from "./validate.ts";

class LeastConnections<E extends Endpoint> implements Strategy<E> {
  private readonly candidates: Candidates<E>;
  private start = 0;

  constructor(members: readonly E[]) {
    this.candidates = new Candidates(members);
  }

  pick(ctx: PickContext<E>): E | undefined {
    const c = this.candidates;
    if (c.scan(ctx.eligible) === 0) return undefined;
    const members = c.members;
    const n = members.length;
    const start = this.start;
    this.start = start + 1 === n ? 0 : start + 1;
    let best = -1;
    let bestLoad = 0;
    let bestWeight = 0;
    for (let k = 0; k < n; k++) {
      const i = start + k < n ? start + k : start + k - n;
      if (!c.has(i)) continue;
      const w = c.weight(i);
      const load = members[i].stats.inFlight / w;
      if (best === -1 || load < bestLoad || (load === bestLoad && w > bestWeight)) {
        best = i;
        bestLoad = load;
        bestWeight = w;
      }
    }
    return members[best];
  }
}

/**
 * Creates the `least-connections` strategy: lowest `stats.inFlight / weight` among the eligible
 * members (weight-0 members, counted as weight 1, only when no weighted member is eligible).
 * Deterministic: no randomness is used. The dispatcher must keep `inFlight` exact (+1 when an
 * attempt starts, -1 exactly once when its body ends), since the choice depends on nothing else.
 *
 * @throws {RangeError} when a weight is negative or not finite, or ids repeat.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { leastConnections } from "./least_connections.ts";
 * const members = [
 *   { id: "a", weight: 2, stats: { inFlight: 3, latencyEwmaMs: 0, errorEwma: 0 } },
 *   { id: "b", weight: 1, stats: { inFlight: 1, latencyEwmaMs: 0, errorEwma: 0 } },
 * ];
 * const strategy = leastConnections(members);
 * // a carries 3/2 = 1.5 per unit of weight, b carries 1.
 * assert.equal(strategy.pick({})?.id, "b");
 * ```
 */
export function leastConnections<E extends Endpoint>(members: readonly E[]): Strategy<E> {
  return new LeastConnections(validateMembers("least-connections", members));
}
