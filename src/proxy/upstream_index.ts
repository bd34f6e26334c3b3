/**
 * A runtime's instances by id, built once per runtime (a reload builds a new one): the status
 * pages, the admin API and the console look each configured instance up here instead of scanning
 * the list for each — a scan per instance is quadratic, 50 million comparisons per page at 10,000
 * instances, and the status pages are public when auth is off.
 *
 * @module
 */

import type { Runtime, Upstream } from "./runtime_types.ts";

const indexes = new WeakMap<Runtime, ReadonlyMap<string, Upstream>>();

/**
 * The live instance with `id` in `rt` (`undefined`: disabled or unknown).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { upstreamOf } from "./upstream_index.ts";
 * import type { Runtime, Upstream } from "./runtime_types.ts";
 * const u = { id: "chat/m@http://127.0.0.1:1" } as Upstream;
 * const rt = { upstreams: [u] } as unknown as Runtime;
 * assert.equal(upstreamOf(rt, u.id), u);
 * assert.equal(upstreamOf(rt, "other"), undefined);
 * ```
 */
export function upstreamOf(rt: Runtime, id: string): Upstream | undefined {
  let index = indexes.get(rt);
  if (!index) {
    const map = new Map<string, Upstream>();
    for (const u of rt.upstreams) map.set(u.id, u);
    indexes.set(rt, index = map);
  }
  return index.get(id);
}
