/**
 * Reloading without holding up traffic: the file is loaded in a worker (`load_worker.ts`), so the
 * main thread keeps serving on the current table until a validated configuration arrives; a worker
 * that takes too long is terminated (and its memory with it). Reload requests that arrive while
 * one is under way are folded into one more load once it ends, so a burst of edits costs two
 * loads, not one per edit.
 *
 * Only `main.ts` starts workers: it passes in a function that does.
 *
 * @module
 */

import { ConfigError, configProblem } from "./error.ts";
import { deepFreeze } from "./freeze.ts";
import type { LoadResult } from "./load.ts";
import type { LoadReply, LoadRequest } from "./load_worker.ts";

/** Starts a worker running `load_worker.ts`. */
export type SpawnLoader = () => Worker;

/** Options of `loadOffThread`. */
export interface OffThreadOptions {
  /** Cap on the bytes of the configuration's files (see `loadConfigFile`). */
  readonly maxBytes?: number;
  /**
   * How long the worker may take before it is terminated and the load refused.
   * @default {30000}
   */
  readonly timeoutMs?: number;
}

/**
 * Loads `path` in a fresh worker from `spawn`, and terminates the worker when it has answered or
 * timed out. Resolves with the frozen result; rejects with the `ConfigError` the worker found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadOffThread } from "./reload.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/c.yaml`, "model:\n  adapter: ollama\n");
 * const spawn = () => new Worker(new URL("./load_worker.ts", import.meta.url), { type: "module" });
 * const { config } = await loadOffThread(spawn, `${dir}/c.yaml`, {});
 * assert.equal(config.services.chat.adapter, "ollama");
 * assert(Object.isFrozen(config));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function loadOffThread(
  spawn: SpawnLoader,
  path: string,
  env: Readonly<Record<string, string>>,
  options: OffThreadOptions = {},
): Promise<LoadResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`Cannot load config off thread: "timeoutMs" must be > 0, received ${timeoutMs}`);
  }
  const worker = spawn();
  const done = Promise.withResolvers<LoadResult>();
  const timer = setTimeout(() => {
    done.reject(
      new ConfigError(path, [configProblem("", `took longer than ${timeoutMs} ms to load: refused`)]),
    );
  }, timeoutMs);
  worker.onmessage = (event: MessageEvent<LoadReply>) => {
    const reply = event.data;
    if (reply.ok) done.resolve(deepFreeze(reply.result));
    else if ("problems" in reply) {
      done.reject(new ConfigError(reply.source, reply.problems, { watched: reply.watched }));
    } else done.reject(new Error(reply.message));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    done.reject(new Error(`the config loader failed: ${event.message}`));
  };
  const request: LoadRequest = {
    path,
    env,
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
  };
  worker.postMessage(request);
  return done.promise.finally(() => {
    clearTimeout(timer);
    worker.terminate();
  });
}

/** What `createReloader` does with a load. */
export interface ReloaderOptions {
  /** Loads the configuration (off the main thread). */
  readonly load: () => Promise<LoadResult>;
  /** Puts a loaded configuration in service. */
  readonly apply: (result: LoadResult, why: string) => void;
  /** Reports a configuration that was refused (the current one stays). */
  readonly refuse: (error: unknown, why: string) => void;
}

/**
 * A reload trigger: one load at a time, and requests made meanwhile folded into one more.
 * Resolves when the reloads it started or joined are done.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createReloader } from "./reload.ts";
 * let loads = 0;
 * const applied: string[] = [];
 * const reload = createReloader({
 *   load: () => Promise.resolve({ config: {}, warnings: [], files: [`v${++loads}`] } as never),
 *   apply: (r, why) => applied.push(`${r.files[0]} ${why}`),
 *   refuse: () => {},
 * });
 * await Promise.all([reload("a"), reload("b"), reload("c")]);
 * assert.deepEqual(applied, ["v1 a", "v2 c"]);
 * ```
 */
export function createReloader(options: ReloaderOptions): (why: string) => Promise<void> {
  let running: Promise<void> | undefined;
  let pending: string | undefined;
  const run = async (why: string) => {
    for (let next: string | undefined = why; next !== undefined; next = pending) {
      pending = undefined;
      try {
        options.apply(await options.load(), next);
      } catch (error) {
        options.refuse(error, next);
      }
    }
  };
  return (why) => {
    if (running) {
      pending = why;
      return running;
    }
    running = run(why).finally(() => (running = undefined));
    return running;
  };
}
