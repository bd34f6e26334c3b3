/**
 * `random`: weighted random choice, one draw per pick.
 *
 * @module
 */

import type { Endpoint, PickContext, Random, Strategy, StrategyOptions } from "../types.ts";
import { Candidates } from "./candidates.ts";
import { validateMembers, validateRandom } from "./validate.ts";

class WeightedRandom<E extends Endpoint> implements Strategy<E> {
  private readonly candidates: Candidates<E>;
  private readonly random: Random;

  constructor(members: readonly E[], random: Random) {
    this.candidates = new Candidates(members);
    this.random = random;
  }

  pick(ctx: PickContext<E>): E | undefined {
    const c = this.candidates;
    if (c.scan(ctx.eligible) === 0) return undefined;
    return c.members[c.sample(this.random())];
  }
}

/**
 * Creates the `random` strategy: each eligible member is chosen with probability
 * weight / (sum of eligible weights). Weight-0 members are chosen, uniformly, only when no
 * eligible member has a positive weight. Uses exactly one `random()` call per successful pick.
 *
 * @throws {RangeError} when a weight is negative or not finite, or ids repeat.
 * @throws {TypeError} when `random` is not a function.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { weightedRandom } from "./random.ts";
 * const stats = () => ({ inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 });
 * const members = [{ id: "a", weight: 3, stats: stats() }, { id: "b", weight: 1, stats: stats() }];
 * const strategy = weightedRandom(members, { random: () => 0.8 });
 * // 0.8 × 4 = 3.2 falls past a's share [0, 3): b.
 * assert.equal(strategy.pick({})?.id, "b");
 * assert.equal(strategy.pick({ eligible: (m) => m.id === "a" })?.id, "a");
 * ```
 */
export function weightedRandom<E extends Endpoint>(
  members: readonly E[],
  options: Pick<StrategyOptions, "random">,
): Strategy<E> {
  const list = validateMembers("random", members);
  return new WeightedRandom(list, validateRandom("random", options.random));
}
