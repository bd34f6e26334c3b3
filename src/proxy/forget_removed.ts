/**
 * Dropping the state of instances a reload removed. {@linkcode RuntimeState} is kept by instance
 * id across reloads so counters, breakers and health survive them; without this step every id a
 * config ever had would stay in its maps for good — memory that grows with each reload that renames
 * or replaces instances (the admin API, a moved `base-url`).
 *
 * @module
 */

import type { Config } from "../config/types.ts";
import { SERVICE_KINDS } from "../types.ts";
import type { RuntimeState } from "./runtime_types.ts";

/** The ids of every instance `config` lists, enabled or not (a disabled one keeps its state). */
export function configuredIds(config: Config): Set<string> {
  const ids = new Set<string>();
  for (const kind of SERVICE_KINDS) for (const inst of config.services[kind].instances) ids.add(inst.id);
  return ids;
}

/** The `service/model` key of every model `config` has (enabled instances or not). */
export function configuredPools(config: Config): Set<string> {
  const keys = new Set<string>();
  for (const kind of SERVICE_KINDS) {
    for (const inst of config.services[kind].instances) keys.add(`${kind}/${inst.name}`);
  }
  return keys;
}

/**
 * Forgets the first-byte times of every model whose `service/model` key is not in `kept` (a pool
 * of the old table keeps its own for the requests still on it). Admission queues are kept: a
 * request still on the old table may yet wait in its model's queue, and only a queue the gateway
 * drains (on scrapes and reloads) lets it follow the reload or end at once (`Picking.take`); one
 * empty queue per model name ever configured is what that costs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRuntimeState } from "./runtime.ts";
 * import { forgetRemovedPools } from "./forget_removed.ts";
 * import { FirstByteTimes } from "../health/outlier.ts";
 * const state = createRuntimeState();
 * state.firstByteTimes.set("chat/old", new FirstByteTimes());
 * state.firstByteTimes.set("chat/m", new FirstByteTimes());
 * forgetRemovedPools(state, new Set(["chat/m"]));
 * assert.deepEqual([...state.firstByteTimes.keys()], ["chat/m"]);
 * ```
 */
export function forgetRemovedPools(state: RuntimeState, kept: ReadonlySet<string>): void {
  for (const key of state.firstByteTimes.keys()) if (!kept.has(key)) state.firstByteTimes.delete(key);
}

/**
 * Forgets the state of every instance whose id is not in `kept` — unless an attempt still runs or
 * waits on it: its counts are released through that state, so it is dropped at a later reload.
 * Linear in the size of the state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRuntimeState } from "./runtime.ts";
 * import { forgetRemoved } from "./forget_removed.ts";
 * const state = createRuntimeState();
 * state.stats.set("gone", { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 });
 * state.stats.set("busy", { inFlight: 1, latencyEwmaMs: 0, errorEwma: 0 });
 * forgetRemoved(state, new Set());
 * assert.deepEqual([...state.stats.keys()], ["busy"]);
 * ```
 */
export function forgetRemoved(state: RuntimeState, kept: ReadonlySet<string>): void {
  for (const [id, stats] of state.stats) {
    if (kept.has(id) || stats.inFlight > 0 || (state.waiting.get(id)?.size ?? 0) > 0) continue;
    state.stats.delete(id);
    state.breakers.delete(id);
    state.health.delete(id);
    state.limiters.delete(`instance:${id}`);
    state.current.delete(id);
    state.waiting.delete(id);
  }
}

/**
 * Forgets the rate-limit buckets of API keys `config` no longer lists (a key put back later starts
 * with a fresh bucket), so keys rotated through reloads do not pile up.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRuntimeState } from "./runtime.ts";
 * import { forgetRemovedKeys } from "./forget_removed.ts";
 * const state = createRuntimeState();
 * state.keyLimiters.set("old", {} as never);
 * state.keyLimiters.set("kept", {} as never);
 * forgetRemovedKeys(state, { auth: { keys: [{ name: "kept" }] } } as never);
 * assert.deepEqual([...state.keyLimiters.keys()], ["kept"]);
 * ```
 */
export function forgetRemovedKeys(state: RuntimeState, config: Config): void {
  const names = new Set(config.auth.keys.map((k) => k.name));
  for (const name of state.keyLimiters.keys()) if (!names.has(name)) state.keyLimiters.delete(name);
}
