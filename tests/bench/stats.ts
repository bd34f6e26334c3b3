/**
 * Latency samples and percentiles for the Deno load generator: an append-only `Float64Array`
 * that grows by doubling, sorted once at the end (exact percentiles; a few MB even for millions
 * of samples, which is simpler than an HdrHistogram and just as precise here).
 *
 * @module
 */

/** Append-only list of numbers (ms). */
export class Samples {
  #data = new Float64Array(4096);
  #size = 0;

  /** Number of samples. */
  get size(): number {
    return this.#size;
  }

  /** Adds one sample. */
  push(value: number): void {
    if (this.#size === this.#data.length) {
      const grown = new Float64Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data[this.#size++] = value;
  }

  /** A sorted copy of the samples. */
  sorted(): Float64Array {
    return this.#data.slice(0, this.#size).sort();
  }
}

/** The `p`-th percentile (0..100) of an ascending array, nearest-rank; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Median of a plain list (NaN when empty). */
export function median(values: readonly number[]): number {
  return percentile(Float64Array.from(values).sort(), 50);
}
