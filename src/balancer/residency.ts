/**
 * Model residency as a filter every strategy gets (`createStrategy` wraps each one): when the
 * engine signals say that some eligible instance already has the requested model loaded (Ollama's
 * `/api/ps`), instances known *not* to have it are left out of the pick — a cold load takes
 * seconds, more than any queue the warm ones are likely to have. Unknown residency is neutral:
 * without a positive "loaded" somewhere nothing is filtered, and an instance of unknown residency
 * is never left out. The wrapped strategy then chooses among the rest as it always does.
 *
 * A pick without `PickContext.load` costs one extra call and nothing else.
 *
 * @module
 */

import type { Endpoint, PickContext, Strategy } from "../types.ts";

const OUT = 0;
const IN = 1;
const COLD = 2;

class PreferResident<E extends Endpoint> implements Strategy<E> {
  private readonly inner: Strategy<E>;
  private readonly index: Map<E, number>;
  private readonly state: Uint8Array;
  private dropCold = false;
  /** The eligibility the inner strategy sees: from this pick's scan, so the caller's runs once. */
  private readonly allowed = (e: E): boolean => {
    const s = this.state[this.index.get(e) ?? -1];
    return s === IN || (s === COLD && !this.dropCold);
  };

  constructor(inner: Strategy<E>, members: readonly E[]) {
    this.inner = inner;
    this.index = new Map(members.map((m, i) => [m, i]));
    this.state = new Uint8Array(members.length);
  }

  pick(ctx: PickContext<E>): E | undefined {
    const load = ctx.load;
    if (load === undefined) return this.inner.pick(ctx);
    const eligible = ctx.eligible;
    // Only members of the tier the inner strategy will pick from count (weight-0 spares serve
    // only when no weighted member is eligible, whatever they have loaded).
    let warm = 0;
    let cold = 0;
    let warmZero = 0;
    let coldZero = 0;
    let weighted = false;
    for (const [m, i] of this.index) {
      if (eligible !== undefined && !eligible(m)) {
        this.state[i] = OUT;
        continue;
      }
      const resident = load(m)?.resident;
      this.state[i] = resident === false ? COLD : IN;
      if (m.weight > 0) {
        weighted = true;
        if (resident === true) warm++;
        else if (resident === false) cold++;
      } else if (resident === true) warmZero++;
      else if (resident === false) coldZero++;
    }
    this.dropCold = weighted ? warm > 0 && cold > 0 : warmZero > 0 && coldZero > 0;
    return this.inner.pick({ ...ctx, eligible: this.allowed });
  }
}

/**
 * Wraps `strategy` (built over `members`) with the residency preference of the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { leastConnections } from "./least_connections.ts";
 * import { preferResident } from "./residency.ts";
 * const stats = (inFlight: number) => ({ inFlight, latencyEwmaMs: 0, errorEwma: 0 });
 * const members = [{ id: "cold", weight: 1, stats: stats(0) }, { id: "warm", weight: 1, stats: stats(5) }];
 * const strategy = preferResident(leastConnections(members), members);
 * const load = (m: { id: string }) => ({ resident: m.id === "warm" });
 * assert.equal(strategy.pick({ load })?.id, "warm"); // busier, but it has the model loaded
 * assert.equal(strategy.pick({})?.id, "cold"); // no signals: plain least-connections
 * ```
 */
export function preferResident<E extends Endpoint>(
  strategy: Strategy<E>,
  members: readonly E[],
): Strategy<E> {
  return new PreferResident(strategy, [...members]);
}
