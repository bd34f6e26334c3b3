/**
 * `least-latency`: the candidate with the lowest expected cost, where cost grows with measured
 * latency, error rate and current load.
 *
 * @module
 */

import type { Endpoint, PickContext, Strategy } from "../types.ts";
import { LeastCostScan } from "./least_cost.ts";
import { validateMembers } from "./validate.ts";

/**
 * How much an error ratio inflates the latency: cost × (1 + 10 × errorEwma). A member failing
 * 10% of requests looks twice as slow, one failing every request eleven times as slow: failing
 * fast must not make an instance attractive, yet a single error does not exile it.
 */
export const ERROR_PENALTY = 10;

// Classes, best first. Unsampled members get one request at a time until their first sample:
// sending them everything while they have no latency would herd all traffic onto a cold one.
const UNSAMPLED_IDLE = 0;
const SAMPLED = 1;
const UNSAMPLED_BUSY = 2;

class LeastLatency<E extends Endpoint> implements Strategy<E> {
  private readonly scan: LeastCostScan<E>;
  /** The smallest positive weight: a member of that weight takes one request before it queues. */
  private readonly unit: number;

  constructor(members: readonly E[]) {
    this.scan = new LeastCostScan(members);
    let unit = Infinity;
    for (const m of members) if (m.weight > 0 && m.weight < unit) unit = m.weight;
    this.unit = unit === Infinity ? 1 : unit;
  }

  pick(ctx: PickContext<E>): E | undefined {
    const scan = this.scan;
    if (scan.begin(ctx.eligible) === 0) return undefined;
    const members = scan.members;
    const unit = scan.zeroTier ? 1 : this.unit;
    for (let i = 0; i < members.length; i++) {
      if (!scan.has(i)) continue;
      const s = members[i].stats;
      const p = s.peers;
      const inFlight = p === undefined ? s.inFlight : s.inFlight + p.inFlight;
      // Requests the member serves before a new one queues behind them, relative to the lightest.
      const queue = Math.max(1, ((inFlight + 1) * unit) / scan.weight(i));
      let latency = s.latencyEwmaMs;
      let errors = s.errorEwma;
      if (p !== undefined && p.sampled > 0) {
        // Every sampled view counts the same: this process's, and each other replica's.
        const own = latency > 0 ? 1 : 0;
        latency = (latency * own + p.latencyEwmaMs * p.sampled) / (own + p.sampled);
        errors = (errors * own + p.errorEwma * p.sampled) / (own + p.sampled);
      }
      if (latency > 0) {
        scan.offer(i, SAMPLED, latency * (1 + ERROR_PENALTY * errors) * queue);
      } else if (inFlight <= 0) {
        scan.offer(i, UNSAMPLED_IDLE, 0);
      } else {
        scan.offer(i, UNSAMPLED_BUSY, queue);
      }
    }
    return scan.choose();
  }
}

/**
 * Creates the `least-latency` strategy. Among the eligible members it picks, in this order:
 *
 * 1. a member with no latency sample yet (`latencyEwmaMs === 0`) and nothing in flight, so that
 *    new or restarted instances get measured, one request at a time;
 * 2. otherwise the sampled member with the lowest
 *    `cost = latencyEwmaMs × (1 + ERROR_PENALTY × errorEwma) × max(1, (inFlight + 1) / capacity)`,
 *    where `capacity = weight / smallest weight` (a member of weight 3 beside one of weight 1
 *    serves three requests before a new one waits behind them);
 * 3. only when no member is sampled, the lowest `max(1, (inFlight + 1) / capacity)`.
 *
 * The queue factor (Finagle's "peak EWMA" idea) is why this balances at all: the EWMA only moves
 * when responses come back, so plain lowest-latency sends every request of a burst to the same
 * instance. Multiplying by the queue a new request would join spreads load in proportion to speed
 * and weight. Costs within 5 % of the lowest (`NEAR_TIE`) are shared by smooth weighted round
 * robin, so instances of equal latency take traffic in the ratio of their weights at any load —
 * even one request at a time. Deterministic: no randomness is used. Weight-0 members, counted as
 * weight 1, are considered only when no weighted member is eligible.
 *
 * Feed it with `observeLatency` / `observeOutcome` from `ewma.ts` once per attempt. In a
 * cluster, `stats.peers` adds what the other workers and replicas last reported: their in-flight
 * requests join the queue, and each sampled view of the latency and error EWMAs (this process's
 * and every other one's) counts the same in the means used.
 *
 * @throws {RangeError} when a weight is negative or not finite, or ids repeat.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { leastLatency } from "./least_latency.ts";
 * const members = [
 *   { id: "fast-but-failing", weight: 1, stats: { inFlight: 0, latencyEwmaMs: 100, errorEwma: 0.5 } },
 *   { id: "steady", weight: 1, stats: { inFlight: 0, latencyEwmaMs: 300, errorEwma: 0 } },
 * ];
 * // 100 × (1 + 10 × 0.5) = 600 > 300.
 * assert.equal(leastLatency(members).pick({})?.id, "steady");
 * ```
 */
export function leastLatency<E extends Endpoint>(members: readonly E[]): Strategy<E> {
  return new LeastLatency(validateMembers("least-latency", members));
}
