/**
 * How one model pool routes, built with the runtime: its strategy over its instances, and what
 * each request's pick needs beyond them — engine loads (only when some instance is scraped), a
 * prompt hasher (only for `prefix-affinity`), the admission gate (only with limits). Kept apart
 * from `runtime.ts` so that the routing table's state and a pool's routing inputs each have a home.
 *
 * @module
 */

import { createStrategy, promptHasher } from "../balancer/mod.ts";
import type { ServiceConfig } from "../config/types.ts";
import { loadSourceOf } from "../signals/targets.ts";
import type { Random } from "../types.ts";
import type { Gate } from "./admission_queue.ts";
import type { ModelPool, Upstream } from "./runtime_types.ts";

/** A pool's routing: everything of a {@linkcode ModelPool} but its name, instances and first-byte times. */
export type PoolRouting = Pick<ModelPool, "strategy" | "signals" | "gate" | "hashPrompt">;

/**
 * The routing of the pool of `upstreams` in `svc`.
 *
 * @throws {RangeError} from the strategy factory, for options it refuses.
 */
export function poolRouting(
  svc: ServiceConfig,
  upstreams: readonly Upstream[],
  gate: Gate | undefined,
  random: Random,
): PoolRouting {
  const lb = svc.loadBalance;
  const strategy = createStrategy<Upstream>(lb.type, upstreams, {
    random,
    hashAlgorithm: lb.hashAlgorithm,
    loadFactor: lb.loadFactor,
    kvSaturation: lb.kvSaturation,
    prefixCacheSize: lb.prefix.cacheSize,
  });
  return {
    strategy,
    signals: svc.loadSignals.enabled && upstreams.some((u) => loadSourceOf(u, svc.loadSignals) !== undefined),
    ...(gate !== undefined ? { gate } : {}),
    ...(lb.type === "prefix-affinity" ? { hashPrompt: promptHasher(lb.prefix) } : {}),
  };
}
