/**
 * What the operator console shows of an instance's engine: the queue depth and KV-cache use the
 * engine last reported, while that reading is trusted — the same numbers as
 * `dairouter_engine_queue_depth` / `_kv_cache_usage`.
 *
 * @module
 */

import type { Upstream } from "../proxy/runtime.ts";
import type { EngineLoad } from "./snapshot.ts";

/**
 * The console's `loadOf`: an instance's engine load, `undefined` without a trusted reading.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { consoleLoad } from "./engine_load.ts";
 * const status = () => ({ waiting: 3, kvUsage: 0.5, trusted: true });
 * const u = { stats: { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0, engine: { read: () => undefined, status } } };
 * assert.deepEqual(consoleLoad(u), { queueDepth: 3, kvCacheUsage: 0.5 });
 * ```
 */
export function consoleLoad(u: Pick<Upstream, "stats">): EngineLoad | undefined {
  const s = u.stats.engine?.status();
  if (s === undefined || !s.trusted) return undefined;
  if (s.waiting === undefined && s.kvUsage === undefined) return undefined;
  return {
    ...(s.waiting !== undefined ? { queueDepth: s.waiting } : {}),
    ...(s.kvUsage !== undefined ? { kvCacheUsage: s.kvUsage } : {}),
  };
}
