/**
 * `power-of-two`: the power of two random choices (Mitzenmacher). Two distinct candidates are
 * drawn by weight and the one with fewer in-flight requests per unit of weight wins. It keeps the
 * load balance of least-connections while avoiding its herd behaviour: many gateways (or a burst
 * of requests read against stale counts) do not all pile onto the same single least-loaded member.
 *
 * @module
 */

import type { Endpoint, PickContext, Random, Strategy, StrategyOptions } from "../types.ts";
import { Candidates } from "./candidates.ts";
import { validateMembers, validateRandom } from "./validate.ts";

class PowerOfTwo<E extends Endpoint> implements Strategy<E> {
  private readonly candidates: Candidates<E>;
  private readonly random: Random;

  constructor(members: readonly E[], random: Random) {
    this.candidates = new Candidates(members);
    this.random = random;
  }

  pick(ctx: PickContext<E>): E | undefined {
    const c = this.candidates;
    const count = c.scan(ctx.eligible);
    if (count === 0) return undefined;
    const first = c.sample(this.random());
    if (count === 1) return c.members[first];
    const second = c.sample(this.random(), first);
    const a = c.members[first];
    const b = c.members[second];
    // Ties keep the first draw, so with equal loads picks follow the weights exactly.
    return b.stats.inFlight / c.weight(second) < a.stats.inFlight / c.weight(first) ? b : a;
  }
}

/**
 * Creates the `power-of-two` strategy: two weighted-random distinct eligible candidates, the
 * lower `inFlight / weight` wins (ties: the first draw). Uses two `random()` calls per pick (one
 * when a single candidate is eligible). Weight-0 members, counted as weight 1, are drawn only when
 * no weighted member is eligible.
 *
 * @throws {RangeError} when a weight is negative or not finite, or ids repeat.
 * @throws {TypeError} when `random` is not a function.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { powerOfTwo } from "./power_of_two.ts";
 * const members = [
 *   { id: "a", weight: 1, stats: { inFlight: 9, latencyEwmaMs: 0, errorEwma: 0 } },
 *   { id: "b", weight: 1, stats: { inFlight: 2, latencyEwmaMs: 0, errorEwma: 0 } },
 * ];
 * // Whatever the draws, the two candidates are a and b, and b is less loaded.
 * const strategy = powerOfTwo(members, { random: () => 0.1 });
 * assert.equal(strategy.pick({})?.id, "b");
 * ```
 */
export function powerOfTwo<E extends Endpoint>(
  members: readonly E[],
  options: Pick<StrategyOptions, "random">,
): Strategy<E> {
  const list = validateMembers("power-of-two", members);
  return new PowerOfTwo(list, validateRandom("power-of-two", options.random));
}
