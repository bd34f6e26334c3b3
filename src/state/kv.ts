/**
 * The Deno KV {@linkcode StateStore}, for `state.backend: kv`: state survives restarts in a
 * local SQLite-backed file. Needs `--unstable-kv`; the path is always explicit (":memory:" gives
 * a throwaway store, as the tests use).
 *
 * Values are wrapped as `{ v: value, x: expiresAt }`. Deno KV's own `expireIn` deletes entries
 * only eventually, so when a clock is given, reads also hide entries whose `x` has passed —
 * the same exact expiry as the memory store.
 *
 * @module
 */

import type { Clock } from "../types.ts";
import { checkExpiry, checkKey, type StateStore, type StoreEntry } from "./store.ts";

/** Options of {@linkcode openKvStore}. */
export interface KvStoreOptions {
  /** Milliseconds now; with it, expired entries are hidden at once instead of eventually. */
  readonly clock?: Clock;
}

interface Envelope {
  readonly v: unknown;
  /** Absolute expiry in ms; 0 = none (or no clock to measure it). */
  readonly x: number;
}

function isEnvelope(value: unknown): value is Envelope {
  return typeof value === "object" && value !== null && "v" in value &&
    typeof (value as Envelope).x === "number";
}

/**
 * Opens a Deno KV database as a state store.
 *
 * @param path The database file, or ":memory:".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openKvStore } from "./kv.ts";
 * const store = await openKvStore(":memory:");
 * await store.set(["limiter", "global", "0"], "[]");
 * assert.equal(await store.get(["limiter", "global", "0"]), "[]");
 * store.close();
 * ```
 */
export async function openKvStore(path: string, options: KvStoreOptions = {}): Promise<StateStore> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `Cannot open KV store: "path" must be a non-empty string (":memory:" for a throwaway store), received ${
        JSON.stringify(path)
      }`,
    );
  }
  const clock = options.clock;
  if (clock !== undefined && typeof clock !== "function") {
    throw new TypeError(`Cannot open KV store: "clock" must be a function, received ${typeof clock}`);
  }
  const kv = await Deno.openKv(path);
  let closed = false;
  /** The stored value, or `undefined` when absent, foreign or expired. */
  const unwrap = (value: unknown, now: number): unknown =>
    isEnvelope(value) && (value.x === 0 || now < value.x) ? value.v : undefined;
  const now = () => clock === undefined ? 0 : clock();

  return {
    async get<T>(key: readonly string[]) {
      checkKey("get state", key);
      const entry = await kv.get([...key]);
      return unwrap(entry.value, now()) as T | undefined;
    },
    async set(key, value, options) {
      checkKey("set state", key);
      checkExpiry(options);
      const ms = options?.expireInMs;
      const x = ms !== undefined && clock !== undefined ? clock() + ms : 0;
      await kv.set(
        [...key],
        { v: value, x } satisfies Envelope,
        ms === undefined ? undefined : { expireIn: ms },
      );
    },
    async delete(key) {
      checkKey("delete state", key);
      await kv.delete([...key]);
    },
    async list<T>(prefix: readonly string[]) {
      checkKey("list state", prefix, true);
      const at = now();
      const found: Array<StoreEntry<T>> = [];
      for await (const entry of kv.list({ prefix: [...prefix] })) {
        if (!entry.key.every((p) => typeof p === "string")) continue;
        const value = unwrap(entry.value, at);
        if (value !== undefined) found.push({ key: entry.key as string[], value: value as T });
      }
      return found;
    },
    close() {
      if (closed) return;
      closed = true;
      kv.close();
    },
  };
}
