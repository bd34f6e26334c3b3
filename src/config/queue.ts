/**
 * The admission queue's configuration: `queue` (global and per service, like `health-check`)
 * and what feeds it — an instance's `max-concurrency` and an API key's `priority` are written
 * beside their instance and key. Schemas, defaults and resolution in one file.
 *
 * ```yaml
 * model:
 *   services:
 *     chat:
 *       queue:                 # written = on (unless enabled: false)
 *         max-size: 100        # requests waiting at most, over the service's models (then 429)
 *         max-wait: 30s        # longest wait for a slot (then 503 with Retry-After)
 *         priority: api-key    # api-key = auth.keys[].priority; or header:X-Priority
 *         max-engine-queue: 4  # an instance takes a request only while fewer wait in its engine's queue
 *       instances:
 *         - { name: qwen, base-url: "http://127.0.0.1:8000", max-concurrency: 16 }
 * auth:
 *   keys:
 *     - { name: interactive, key: "${KEY_A}", priority: 9 }
 * ```
 *
 * @module
 */

import { z } from "zod";
import { bool, duration, int, TOKEN } from "./schema_common.ts";
import { describeValue } from "./units.ts";

/** Priority levels: 0 (default, served last) … `PRIORITY_LEVELS − 1` (served first). */
export const PRIORITY_LEVELS = 10;

/** An API key's `priority` (and the range a priority header may name). */
export const priorityLevel = int(0, PRIORITY_LEVELS - 1);

/** An instance's `max-concurrency`: requests in flight at once (streams until they end). */
export const maxConcurrency = int(1);

/** The `queue` block of the global level and of a service. */
export const queueBlock = z.strictObject({
  enabled: bool(),
  maxSize: int(0, 1_000_000),
  maxWait: duration(0, false),
  priority: z.string().trim().refine(
    (v) => v === "api-key" || (/^header:/.test(v) && TOKEN.test(v.slice(7))),
    { error: (issue) => `must be api-key or header:<Name>, received ${describeValue(issue.input)}` },
  ).optional(),
  maxEngineQueue: int(0),
});

/** Resolved `queue` of a service. */
export interface QueueConfig {
  /** A block was written at some level (and not disabled): requests may wait. */
  readonly enabled: boolean;
  /** Requests waiting at most, over all models of the service; beyond it a 429. */
  readonly maxSize: number;
  /** The longest wait for a slot, ms; then a 503 with `Retry-After`. */
  readonly maxWaitMs: number;
  /**
   * Where a request's priority comes from: `api-key` (its key's `priority`), or a header the
   * operator names (its value, at most the key's `priority` when the key has one).
   */
  readonly priorityHeader?: string;
  /**
   * An instance takes a request that would queue in its engine only while fewer than this many
   * wait there (its trusted, corrected load report); absent = engine queues do not gate.
   */
  readonly maxEngineQueue?: number;
}

/** Defaults of `queue` (`max-engine-queue` has none: engine queues do not gate unless set). */
export const QUEUE_DEFAULTS = { maxSize: 100, maxWaitMs: 30_000 } as const;

/** What no queue looks like: a request that finds every instance full is refused at once. */
export const NO_QUEUE: QueueConfig = { enabled: false, maxSize: 0, maxWaitMs: 0 };

type Block = z.output<typeof queueBlock> | undefined;

function first<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

/** Resolves `queue` key by key, from the most specific block to the least. */
export function resolveQueue(blocks: readonly Block[]): QueueConfig {
  const written = blocks.some((b) => b !== undefined);
  const enabled = first(...blocks.map((b) => b?.enabled)) ?? written;
  if (!enabled) return NO_QUEUE;
  const priority = first(...blocks.map((b) => b?.priority)) ?? "api-key";
  const maxEngineQueue = first(...blocks.map((b) => b?.maxEngineQueue));
  return {
    enabled,
    maxSize: first(...blocks.map((b) => b?.maxSize)) ?? QUEUE_DEFAULTS.maxSize,
    maxWaitMs: first(...blocks.map((b) => b?.maxWait)) ?? QUEUE_DEFAULTS.maxWaitMs,
    ...(priority.startsWith("header:") ? { priorityHeader: priority.slice(7).toLowerCase() } : {}),
    ...(maxEngineQueue !== undefined ? { maxEngineQueue } : {}),
  };
}
