/**
 * The `cache` fallback: the last successful answer to an identical request, served when no
 * instance can answer (JAiRouter's `fallback.strategy: cache`, with `cache-size` and `cache-ttl`).
 * Bounded LRU with a TTL; keys are a SHA-256 of the request bytes, so large bodies are not kept
 * twice.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Clock } from "../types.ts";

/** A stored answer. */
export interface CachedResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Uint8Array;
  readonly storedAt: number;
}

/** LRU + TTL cache of successful answers. */
export interface FallbackCache {
  /** Key for a request body of a given model. */
  key(model: string, body: Uint8Array): string;
  /** The live entry of `key` (a promise when the cache is shared through Redis). */
  get(key: string): CachedResponse | undefined | Promise<CachedResponse | undefined>;
  set(key: string, value: Omit<CachedResponse, "storedAt">): void;
  readonly size: number;
}

/**
 * Creates a cache holding at most `size` entries for `ttlMs` each.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createFallbackCache } from "./fallback_cache.ts";
 * let now = 0;
 * const cache = createFallbackCache(2, 1000, () => now);
 * const k = cache.key("m", new TextEncoder().encode("{}"));
 * cache.set(k, { status: 200, contentType: "application/json", body: new Uint8Array([1]) });
 * assert((await cache.get(k))?.status === 200);
 * now = 1001;
 * assert(cache.get(k) === undefined);
 * ```
 */
export function createFallbackCache(size: number, ttlMs: number, clock: Clock): FallbackCache {
  if (!(size >= 1)) {
    throw new RangeError(`Cannot create fallback cache: "cache-size" must be >= 1, received ${size}`);
  }
  if (!(ttlMs > 0)) {
    throw new RangeError(`Cannot create fallback cache: "cache-ttl" must be > 0, received ${ttlMs}`);
  }
  const entries = new Map<string, CachedResponse>();
  return {
    key(model, body) {
      return createHash("sha256").update(model).update("\0").update(body).digest("base64");
    },
    get(key) {
      const hit = entries.get(key);
      if (!hit) return undefined;
      if (clock() - hit.storedAt > ttlMs) {
        entries.delete(key);
        return undefined;
      }
      return hit;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, { ...value, storedAt: clock() });
      if (entries.size > size) entries.delete(entries.keys().next().value!);
    },
    get size() {
      return entries.size;
    },
  };
}
