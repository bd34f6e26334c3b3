/**
 * The model catalogue as the request path reads it: per service, every name a client may send —
 * a model, an alias — mapped once, at runtime build, to a {@linkcode ModelRoute}: the pool that
 * serves it and the pools of its fallback chain. A request that needs neither alias nor fallback
 * pays one `Map` lookup, as it did before the catalogue existed; `*` patterns are split here and
 * tried only for names the map does not hold.
 *
 * @module
 */

import type { AliasConfig, FallbackChain } from "../config/types.ts";
import type { ModelPool, ModelRoute, PatternRoute, ServiceCatalogue } from "./runtime_types.ts";

/**
 * Whether `name` matches a glob split at its stars (`"claude-*".split("*")`). The first piece
 * is a prefix, the last a suffix, the others are found in order, leftmost first — exact for
 * `*`-only globs, and linear in the name (no regular expression a client's name could make
 * backtrack).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globMatch } from "./catalogue.ts";
 * assert(globMatch("claude-*".split("*"), "claude-sonnet-4-5"));
 * assert(!globMatch("claude-*".split("*"), "my-claude-x"));
 * assert(globMatch("*-8b*".split("*"), "qwen3-8b-awq") && globMatch(["", ""], "anything"));
 * ```
 */
export function globMatch(parts: readonly string[], name: string): boolean {
  const last = parts.length - 1;
  if (last === 0) return name === parts[0];
  const head = parts[0];
  const tail = parts[last];
  if (name.length < head.length + tail.length || !name.startsWith(head) || !name.endsWith(tail)) {
    return false;
  }
  let at = head.length;
  const end = name.length - tail.length;
  for (let i = 1; i < last; i++) {
    const found = name.indexOf(parts[i], at);
    if (found < 0 || found + parts[i].length > end) return false;
    at = found + parts[i].length;
  }
  return true;
}

/**
 * Builds a service's catalogue from its pools, the aliases (exact first, then patterns by
 * specificity, as resolved) and its fallback chains. An alias or chain naming a model this
 * service lacks is left out here: the same names serve several services.
 */
export function buildCatalogue(
  pools: ReadonlyMap<string, ModelPool>,
  aliases: readonly AliasConfig[],
  chains: readonly FallbackChain[],
): ServiceCatalogue {
  const aliasOf = new Map<string, string>();
  for (const a of aliases) if (!a.pattern) aliasOf.set(a.name, a.model);
  const poolOf = (name: string) => pools.get(name) ?? pools.get(aliasOf.get(name) ?? "");
  const chainOf = new Map<ModelPool, ModelPool[]>();
  for (const c of chains) {
    const head = poolOf(c.model);
    if (head === undefined || chainOf.has(head)) continue;
    const list: ModelPool[] = [];
    for (const name of c.then) {
      const p = poolOf(name);
      if (p !== undefined && p !== head && !list.includes(p)) list.push(p);
    }
    chainOf.set(head, list);
  }
  const routeOf = new Map<ModelPool, ModelRoute>();
  for (const pool of pools.values()) routeOf.set(pool, { pool, fallbacks: chainOf.get(pool) ?? [] });
  const routes = new Map<string, ModelRoute>();
  for (const [name, pool] of pools) routes.set(name, routeOf.get(pool)!);
  const patterns: PatternRoute[] = [];
  for (const a of aliases) {
    const pool = pools.get(a.model);
    if (pool === undefined || pools.has(a.name)) continue;
    if (a.pattern) patterns.push({ parts: a.name.split("*"), route: routeOf.get(pool)! });
    else routes.set(a.name, routeOf.get(pool)!);
  }
  return { routes, patterns };
}

/**
 * The route of a requested name: a model or an exact alias by one lookup, else the first
 * matching pattern; `undefined` when nothing in this service answers to it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildCatalogue, resolveModel } from "./catalogue.ts";
 * import type { ModelPool } from "./runtime_types.ts";
 * const pool = { name: "qwen3-8b" } as ModelPool;
 * const cat = buildCatalogue(new Map([["qwen3-8b", pool]]), [
 *   { name: "gpt-4o-mini", model: "qwen3-8b", hidden: false, pattern: false },
 *   { name: "gpt-*", model: "qwen3-8b", hidden: false, pattern: true },
 * ], []);
 * assert.equal(resolveModel(cat, "gpt-4o-mini")?.pool, pool);
 * assert.equal(resolveModel(cat, "gpt-5")?.pool, pool);
 * assert.equal(resolveModel(cat, "llama3"), undefined);
 * ```
 */
export function resolveModel(cat: ServiceCatalogue, name: string): ModelRoute | undefined {
  const route = cat.routes.get(name);
  if (route !== undefined || cat.patterns.length === 0) return route;
  for (const p of cat.patterns) if (globMatch(p.parts, name)) return p.route;
  return undefined;
}
