/**
 * Deep freezing: config is validated once at the boundary and passed down frozen, so no consumer
 * can change what another one sees.
 *
 * @module
 */

/** A recursively read-only view of `T`. */
export type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[]
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
  : T;

/**
 * Freezes `value` and everything reachable from it (plain objects and arrays), then returns it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deepFreeze } from "./freeze.ts";
 * const cfg = deepFreeze({ server: { ports: [8080] } });
 * assert(Object.isFrozen(cfg.server.ports));
 * ```
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) {
    deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}
