/**
 * The state-store interface: a small key-value store with array keys, the subset of Deno KV
 * the gateway needs, so that the memory store (tests, `state.backend: memory`) and the KV store
 * are interchangeable. Both pass the contract suite in `_testing.ts`.
 *
 * Semantics shared by both:
 * - values are copied on `set` (structured clone), so later changes to the object do not leak in;
 * - `list(prefix)` returns the keys strictly below `prefix` (not `prefix` itself), in key order:
 *   part by part, by UTF-8 bytes, a shorter key before its extensions;
 * - `expireInMs` hides the entry once that much time has passed on the store's clock.
 *
 * @module
 */

/** Options of {@linkcode StateStore.set}. */
export interface SetOptions {
  /** Drop the entry after this many ms. */
  readonly expireInMs?: number;
}

/** One entry returned by {@linkcode StateStore.list}. */
export interface StoreEntry<T> {
  /** The full key. */
  readonly key: string[];
  /** A copy of the stored value. */
  readonly value: T;
}

/** Where breaker and limiter state survives restarts. */
export interface StateStore {
  /** The value at `key`, or `undefined`. */
  get<T>(key: readonly string[]): Promise<T | undefined>;
  /** Stores a structured-clonable `value` at `key`. */
  set(key: readonly string[], value: unknown, options?: SetOptions): Promise<void>;
  /** Removes `key` (no error when absent). */
  delete(key: readonly string[]): Promise<void>;
  /** Every entry whose key starts with `prefix` and is longer than it, in key order. */
  list<T>(prefix: readonly string[]): Promise<Array<StoreEntry<T>>>;
  /** Releases the store; it is not used afterwards. Calling it twice is harmless. */
  close(): void;
}

/**
 * Throws a `TypeError` unless `key` is a non-empty array of strings (`what` names the caller).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkKey } from "./store.ts";
 * assert.throws(() => checkKey("set", []), TypeError);
 * ```
 */
export function checkKey(what: string, key: readonly string[], allowEmpty = false): void {
  if (!Array.isArray(key) || (!allowEmpty && key.length === 0) || key.some((p) => typeof p !== "string")) {
    throw new TypeError(
      `Cannot ${what}: the key must be a ${allowEmpty ? "" : "non-empty "}array of strings, received ${
        JSON.stringify(key)
      }`,
    );
  }
}

/** Throws a `RangeError` unless `expireInMs` is absent or a finite number > 0. */
export function checkExpiry(options: SetOptions | undefined): void {
  const ms = options?.expireInMs;
  if (ms !== undefined && !(typeof ms === "number" && Number.isFinite(ms) && ms > 0)) {
    throw new RangeError(`Cannot set state: "expireInMs" must be a finite number > 0, received ${ms}`);
  }
}
