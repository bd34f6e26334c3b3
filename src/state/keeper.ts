/**
 * Keeps breaker and limiter state in a store across restarts (`state.backend: kv`): restored once
 * at start, saved every `state.flush-interval` and once more at shutdown. Saves never overlap
 * (each waits for the one before), and a failed save is reported, never thrown: the gateway keeps
 * serving without it.
 *
 * @module
 */

import type { Schedule } from "../types.ts";
import { type PersistTargets, restoreState, type RestoreSummary, saveState } from "./persist.ts";
import type { StateStore } from "./store.ts";

/** Options of {@linkcode keepState}. */
export interface StateKeeperOptions {
  /** Where the state is kept (opened by `main.ts`). */
  readonly store: StateStore;
  /** The breakers and limiters of the running table (read at every save). */
  readonly targets: () => PersistTargets;
  /** Time between two saves, ms. */
  readonly intervalMs: number;
  /** Arms the timer of the next save. */
  readonly schedule: Schedule;
  /** Told of a save that failed. */
  readonly onError: (error: unknown) => void;
}

/** The state of a gateway, kept in a store. */
export interface StateKeeper {
  /** Loads the stored state into the targets, then saves every `intervalMs`. */
  restore(): Promise<RestoreSummary>;
  /** Saves now (after any save under way). */
  save(): Promise<void>;
  /** Stops the periodic saves, saves once more and closes the store. */
  close(): Promise<void>;
}

/**
 * Creates a keeper of the state in `store` (nothing is read or written before `restore()`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMemoryStore } from "./memory.ts";
 * import { keepState } from "./keeper.ts";
 * const keeper = keepState({
 *   store: createMemoryStore(() => 0),
 *   targets: () => ({ breakers: new Map(), limiters: new Map() }),
 *   intervalMs: 1000,
 *   schedule: () => () => {},
 *   onError: () => {},
 * });
 * assert.deepEqual(await keeper.restore(), { breakers: 0, limiterKeys: 0, skipped: [] });
 * await keeper.close();
 * ```
 */
export function keepState(options: StateKeeperOptions): StateKeeper {
  const { store, intervalMs, schedule } = options;
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) {
    throw new RangeError(`Cannot keep state: "intervalMs" must be > 0, received ${intervalMs}`);
  }
  let saving: Promise<void> = Promise.resolve();
  let cancel: (() => void) | undefined;
  let closed = false;
  const save = () => {
    saving = saving.then(() => saveState(store, options.targets())).catch(options.onError);
    return saving;
  };
  const arm = () => {
    cancel = schedule(() => {
      void save();
      if (!closed) arm();
    }, intervalMs);
  };
  return {
    async restore() {
      const restored = await restoreState(store, options.targets());
      if (!closed) arm();
      return restored;
    },
    save,
    async close() {
      closed = true;
      cancel?.();
      await save();
      store.close();
    },
  };
}
