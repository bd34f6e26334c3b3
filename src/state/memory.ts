/**
 * The in-memory {@linkcode StateStore}: for tests and for `state.backend: memory`, where state
 * lives as long as the process. Expiry is exact on the injected clock.
 *
 * @module
 */

import type { Clock } from "../types.ts";
import { checkExpiry, checkKey, type StateStore, type StoreEntry } from "./store.ts";

interface Slot {
  readonly key: string[];
  readonly value: unknown;
  /** Absolute expiry in ms, or `Infinity`. */
  readonly expiresAt: number;
}

/** Orders strings by code point, which is the UTF-8 byte order Deno KV uses. */
function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x - y;
    if (x > 0xffff) i++; // both strings hold the same surrogate pair here
  }
  return a.length - b.length;
}

/** Orders keys part by part (UTF-8 order, as Deno KV); a key sorts before its extensions. */
export function compareKeys(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareText(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Runs `fn` as a promise, so that bad arguments reject as they do with the KV store. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Creates an in-memory state store.
 *
 * @param clock Milliseconds now, for `expireInMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMemoryStore } from "./memory.ts";
 * const store = createMemoryStore(() => 0);
 * await store.set(["breaker", "chat/a"], { state: "open" });
 * assert.deepEqual(await store.get(["breaker", "chat/a"]), { state: "open" });
 * assert.equal((await store.list(["breaker"])).length, 1);
 * store.close();
 * ```
 */
export function createMemoryStore(clock: Clock): StateStore {
  if (typeof clock !== "function") {
    throw new TypeError(`Cannot create memory store: "clock" must be a function, received ${typeof clock}`);
  }
  const slots = new Map<string, Slot>();
  const id = (key: readonly string[]) => JSON.stringify(key);
  /** The live slot of `key`, dropping it if it has expired. */
  const live = (k: string, now: number): Slot | undefined => {
    const slot = slots.get(k);
    if (slot !== undefined && now >= slot.expiresAt) {
      slots.delete(k);
      return undefined;
    }
    return slot;
  };

  return {
    get<T>(key: readonly string[]) {
      return settle(() => {
        checkKey("get state", key);
        const slot = live(id(key), clock());
        // A copy, as Deno KV hands out: callers may mutate what they read.
        return slot === undefined ? undefined : structuredClone(slot.value) as T;
      });
    },
    set(key, value, options) {
      return settle(() => {
        checkKey("set state", key);
        checkExpiry(options);
        const ms = options?.expireInMs;
        const expiresAt = ms === undefined ? Infinity : clock() + ms;
        slots.set(id(key), { key: [...key], value: structuredClone(value), expiresAt });
      });
    },
    delete(key) {
      return settle(() => {
        checkKey("delete state", key);
        slots.delete(id(key));
      });
    },
    list<T>(prefix: readonly string[]) {
      return settle(() => {
        checkKey("list state", prefix, true);
        const now = clock();
        const found: Array<StoreEntry<T>> = [];
        for (const [k, slot] of slots) {
          if (slot.key.length <= prefix.length || prefix.some((p, i) => slot.key[i] !== p)) continue;
          if (live(k, now) === undefined || slot.value === undefined) continue;
          found.push({ key: [...slot.key], value: structuredClone(slot.value) as T });
        }
        return found.sort((a, b) => compareKeys(a.key, b.key));
      });
    },
    close() {
      slots.clear();
    },
  };
}
