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
import { ArgminStrategy } from "./candidates.ts";
import { validateMembers } from "./validate.ts";

class LeastConnections<E extends Endpoint> extends ArgminStrategy<E> {
  pick(ctx: PickContext<E>): E | undefined {
    const scan = this.scan;
    for (let i = scan.begin(ctx.eligible); i !== -1; i = scan.next(i)) {
      const w = scan.weight(i);
      const s = scan.members[i].stats;
      scan.offer(i, 0, (s.inFlight + (s.peers?.inFlight ?? 0)) / w, w);
    }
    return scan.best();
  }
}

/**
 * Creates the `least-connections` strategy: lowest `stats.inFlight / weight` among the eligible
 * members (weight-0 members, counted as weight 1, only when no weighted member is eligible).
 * In a cluster, `inFlight` is this process's count plus what the other workers and replicas
 * last reported (`stats.peers.inFlight`).
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
