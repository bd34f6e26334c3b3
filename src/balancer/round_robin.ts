/**
 * `round-robin`: smooth weighted round robin, as nginx's upstream module does it.
 *
 * Each pick adds every candidate's weight to its running `current`, takes the candidate with
 * the largest `current` and subtracts the candidates' total weight from it. Over any window of
 * sum(weights) picks each member is chosen exactly weight times, and heavy members are spread out
 * instead of coming in bursts (weights 5,1,1 → a,a,b,a,c,a,a).
 *
 * Ineligible members are left out of the round: their `current` is frozen, so the remaining
 * members keep their smooth interleaving and a member that comes back resumes where it stopped.
 *
 * @module
 */

import type { Endpoint, PickContext, Strategy } from "../types.ts";
import { Candidates } from "./candidates.ts";
import { validateMembers } from "./validate.ts";

class SmoothRoundRobin<E extends Endpoint> implements Strategy<E> {
  private readonly candidates: Candidates<E>;
  private readonly current: Float64Array;

  constructor(members: readonly E[]) {
    this.candidates = new Candidates(members);
    this.current = new Float64Array(members.length);
  }

  pick(ctx: PickContext<E>): E | undefined {
    const c = this.candidates;
    if (c.scan(ctx.eligible) === 0) return undefined;
    const current = this.current;
    let best = -1;
    for (let i = 0; i < current.length; i++) {
      if (!c.has(i)) continue;
      current[i] += c.weight(i);
      // Strict ">" keeps ties on the earliest member, which makes the sequence reproducible.
      if (best === -1 || current[i] > current[best]) best = i;
    }
    current[best] -= c.totalWeight;
    return c.members[best];
  }
}

/**
 * Creates the `round-robin` strategy (smooth weighted round robin, deterministic, no randomness).
 * Weight-0 members take part, with weight 1 each, only when no eligible member has a positive
 * weight.
 *
 * @throws {RangeError} when a weight is negative or not finite, or ids repeat.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roundRobin } from "./round_robin.ts";
 * const stats = () => ({ inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 });
 * const members = [
 *   { id: "a", weight: 5, stats: stats() },
 *   { id: "b", weight: 1, stats: stats() },
 *   { id: "c", weight: 1, stats: stats() },
 * ];
 * const strategy = roundRobin(members);
 * const order = Array.from({ length: 7 }, () => strategy.pick({})?.id).join("");
 * assert.equal(order, "aabacaa");
 * ```
 */
export function roundRobin<E extends Endpoint>(members: readonly E[]): Strategy<E> {
  return new SmoothRoundRobin(validateMembers("round-robin", members));
}
