/**
 * Where breaker and limiter state lives: one {@linkcode StateStore} interface with a memory and
 * a Deno KV implementation, and `saveState` / `restoreState` (kept up by `keepState`) to carry
 * state across restarts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKvStore } from "./mod.ts";
 * const store = await openKvStore(":memory:");
 * await store.set(["a"], 1);
 * assert.equal(await store.get(["a"]), 1);
 * store.close();
 * ```
 *
 * @module
 */

export { type SetOptions, type StateStore, type StoreEntry } from "./store.ts";
export { createMemoryStore } from "./memory.ts";
export { type KvStoreOptions, openKvStore } from "./kv.ts";
export { keepState, type StateKeeper, type StateKeeperOptions } from "./keeper.ts";
export {
  PART_CHARS,
  type PersistTargets,
  restoreState,
  type RestoreSummary,
  saveState,
  STATE_PREFIX,
} from "./persist.ts";
