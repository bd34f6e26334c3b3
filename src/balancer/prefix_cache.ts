/**
 * What one instance served recently, as prompt block-chain hashes: a bounded, approximately
 * least-recently-used set (two generations). New hashes go into the current generation; when it
 * holds `capacity / 2` entries it becomes the previous one and the old previous is dropped. So a
 * hash used within the last `capacity / 2` insertions is always remembered, none older than
 * `capacity` insertions is, and memory never exceeds `capacity` entries — with O(1) work per hash
 * and no per-entry bookkeeping. Hashes are 30-bit integers (V8 small integers: no boxing).
 *
 * @module
 */

/** Default number of hashes remembered per instance. */
export const DEFAULT_PREFIX_CACHE_SIZE = 8192;

/**
 * A two-generation LRU set of block-chain hashes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PrefixCache } from "./prefix_cache.ts";
 * const cache = new PrefixCache(4);
 * cache.remember([11, 12, 13]);
 * assert.equal(cache.longestMatch([11, 12, 99]), 2);
 * assert.equal(cache.longestMatch([5]), 0);
 * ```
 */
export class PrefixCache {
  /** Most hashes kept. */
  readonly capacity: number;
  private current = new Set<number>();
  private previous = new Set<number>();
  private readonly half: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) {
      throw new RangeError(
        `Cannot create prefix cache: "capacity" must be an integer >= 2, received ${capacity}`,
      );
    }
    this.capacity = capacity;
    this.half = capacity >> 1;
  }

  /** Hashes held now (at most `capacity`). */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** Whether `hash` was remembered recently. */
  has(hash: number): boolean {
    return this.current.has(hash) || this.previous.has(hash);
  }

  /** Remembers (or refreshes) every hash of a prompt's chain, in order. */
  remember(hashes: ArrayLike<number>): void {
    for (let i = 0; i < hashes.length; i++) {
      const h = hashes[i];
      if (this.current.has(h)) continue;
      if (this.current.size >= this.half) {
        // Rotate: the current generation becomes the previous one; the oldest is forgotten.
        const old = this.previous;
        this.previous = this.current;
        old.clear();
        this.current = old;
      }
      this.current.add(h);
    }
  }

  /**
   * How many leading hashes of `hashes` this instance served: the length of the longest
   * remembered prefix. A chain hash stands for its whole prefix, and a chain is remembered as a
   * whole, so a binary search finds it in O(log n) lookups.
   */
  longestMatch(hashes: ArrayLike<number>): number {
    let lo = 0;
    let hi = hashes.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.has(hashes[mid - 1])) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
