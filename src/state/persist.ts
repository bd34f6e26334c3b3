/**
 * Saving and restoring breaker and limiter state through a {@linkcode StateStore}, so that an
 * open breaker stays open and a drained bucket stays drained across a restart. The integrator
 * calls `saveState` on an interval and at shutdown (never two at once on the same store), and
 * `restoreState` once at start, before traffic.
 *
 * Layout under the `dairouter` prefix:
 * - `["dairouter", "breaker", name]` → the breaker's snapshot;
 * - `["dairouter", "limiter", name]` → `{ gen, parts }`, a manifest;
 * - `["dairouter", "limiter-part", name, gen, "000000"…]` → the limiter's snapshot as JSON text,
 *   cut into parts of at most {@linkcode PART_CHARS} characters, because a Deno KV value may not
 *   exceed 64 KiB and a limiter may hold thousands of keys.
 *
 * A save writes a new generation of parts, then the manifest, then deletes older parts, so a
 * crash mid-save leaves the previous generation readable. Names no longer in the maps are
 * deleted from the store.
 *
 * @module
 */

import { type CircuitBreaker, parseBreakerSnapshot } from "../breaker/mod.ts";
import type { KeyedLimiter } from "../limiter/mod.ts";
import type { StateStore } from "./store.ts";

/** What is saved and restored, by name (instance id, scope name…). */
export interface PersistTargets {
  /** Breakers by instance id. */
  readonly breakers: ReadonlyMap<string, CircuitBreaker>;
  /** Keyed limiters by name (e.g. "global", "service:chat", "instance:<id>"). */
  readonly limiters: ReadonlyMap<string, KeyedLimiter>;
}

/** What `restoreState` found. */
export interface RestoreSummary {
  /** Breakers restored. */
  readonly breakers: number;
  /** Limiter keys restored, over all limiters. */
  readonly limiterKeys: number;
  /** Names (`breaker:<name>`, `limiter:<name>`) whose stored data was unusable and ignored. */
  readonly skipped: readonly string[];
}

/** First key part of everything this module writes. */
export const STATE_PREFIX = "dairouter";

/** Longest part of a limiter snapshot: 30,000 UTF-16 units stay under 64 KiB in any encoding. */
export const PART_CHARS = 30_000;

interface Manifest {
  readonly gen: number;
  readonly parts: number;
}

function parseManifest(value: unknown): Manifest | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { gen, parts } = value as Record<string, unknown>;
  return Number.isSafeInteger(gen) && Number.isSafeInteger(parts) && (parts as number) >= 0
    ? { gen: gen as number, parts: parts as number }
    : undefined;
}

const breakerKey = (name: string) => [STATE_PREFIX, "breaker", name];
const manifestKey = (name: string) => [STATE_PREFIX, "limiter", name];
const partKey = (name: string, gen: number, i: number) => [
  STATE_PREFIX,
  "limiter-part",
  name,
  String(gen),
  String(i).padStart(6, "0"),
];

/**
 * Writes every breaker's and limiter's state to `store`, and deletes state of names no longer
 * in `targets`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBreaker } from "../breaker/mod.ts";
 * import { createMemoryStore, restoreState, saveState } from "./mod.ts";
 * const store = createMemoryStore(() => 0);
 * const config = { enabled: true, failureThreshold: 1, timeoutMs: 60_000, successThreshold: 1, halfOpenMaxCalls: 1 };
 * const before = createBreaker(config, () => 0);
 * before.onFailure();
 * await saveState(store, { breakers: new Map([["chat/a", before]]), limiters: new Map() });
 * const after = createBreaker(config, () => 1000);
 * await restoreState(store, { breakers: new Map([["chat/a", after]]), limiters: new Map() });
 * assert.equal(after.state, "open");
 * ```
 */
export async function saveState(store: StateStore, targets: PersistTargets): Promise<void> {
  for (const [name, breaker] of targets.breakers) await store.set(breakerKey(name), breaker.snapshot());
  for (const entry of await store.list([STATE_PREFIX, "breaker"])) {
    if (entry.key.length === 3 && !targets.breakers.has(entry.key[2])) await store.delete(entry.key);
  }

  const current = new Map<string, string>();
  for (const [name, limiter] of targets.limiters) {
    const old = parseManifest(await store.get(manifestKey(name)));
    const gen = old === undefined ? 1 : old.gen + 1;
    const text = JSON.stringify(limiter.snapshot());
    const parts = Math.ceil(text.length / PART_CHARS);
    for (let i = 0; i < parts; i++) {
      await store.set(partKey(name, gen, i), text.slice(i * PART_CHARS, (i + 1) * PART_CHARS));
    }
    await store.set(manifestKey(name), { gen, parts } satisfies Manifest);
    current.set(name, String(gen));
  }
  // Older generations of kept limiters, and everything of limiters that are gone.
  for (const entry of await store.list([STATE_PREFIX, "limiter"])) {
    if (entry.key.length === 3 && !targets.limiters.has(entry.key[2])) await store.delete(entry.key);
  }
  for (const entry of await store.list([STATE_PREFIX, "limiter-part"])) {
    if (entry.key.length !== 5 || current.get(entry.key[2]) !== entry.key[3]) await store.delete(entry.key);
  }
}

/** Reads and joins the current generation of a limiter's snapshot; `undefined` when unusable. */
async function readLimiter(store: StateStore, name: string): Promise<unknown[] | undefined | null> {
  const raw = await store.get(manifestKey(name));
  if (raw === undefined) return null; // nothing saved: not an error
  const m = parseManifest(raw);
  if (m === undefined) return undefined;
  if (m.parts === 0) return [];
  let text = "";
  for (let i = 0; i < m.parts; i++) {
    const part = await store.get(partKey(name, m.gen, i));
    if (typeof part !== "string") return undefined;
    text += part;
  }
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Loads saved state into the given breakers and limiters (matched by name). Unusable data is
 * skipped and reported, never thrown: a damaged store must not keep the gateway from starting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMemoryStore, restoreState } from "./mod.ts";
 * const summary = await restoreState(createMemoryStore(() => 0), { breakers: new Map(), limiters: new Map() });
 * assert.deepEqual(summary, { breakers: 0, limiterKeys: 0, skipped: [] });
 * ```
 */
export async function restoreState(store: StateStore, targets: PersistTargets): Promise<RestoreSummary> {
  const skipped: string[] = [];
  let breakers = 0;
  for (const [name, breaker] of targets.breakers) {
    const raw = await store.get(breakerKey(name));
    if (raw === undefined) continue;
    const snapshot = parseBreakerSnapshot(raw);
    if (snapshot === undefined) {
      skipped.push(`breaker:${name}`);
      continue;
    }
    breaker.restore(snapshot);
    breakers++;
  }
  let limiterKeys = 0;
  for (const [name, limiter] of targets.limiters) {
    const entries = await readLimiter(store, name);
    if (entries === null) continue;
    if (entries === undefined) {
      skipped.push(`limiter:${name}`);
      continue;
    }
    const pairs = entries.filter((e): e is [string, unknown] =>
      Array.isArray(e) && e.length === 2 && typeof e[0] === "string"
    );
    limiterKeys += limiter.restore(pairs);
  }
  return { breakers, limiterKeys, skipped };
}
