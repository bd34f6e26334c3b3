/**
 * Watches the configuration file and calls back once per burst of changes. Reloading is the
 * caller's job; this only says "it changed".
 *
 * The parent directory is watched, not the file: editors (and `write.ts`) replace a file by
 * renaming a new one over it, after which a watch on the old file would see nothing more.
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";

/** Options of `watchConfig`. */
export interface WatchOptions {
  /**
   * Quiet time after the last event before `onChange` runs; an editor's save is several events.
   * @default {200}
   */
  readonly debounceMs?: number;
  /** Called if the watcher fails (say, the directory was removed); watching has then stopped. */
  readonly onError?: (err: unknown) => void;
}

/** Stops watching. Safe to call more than once. */
export type Disposer = () => void;

/**
 * Calls `onChange` after `path` was created, modified, renamed over or removed, at most once per
 * `debounceMs` of quiet.
 *
 * @example
 * ```ts
 * import { watchConfig } from "./watch.ts";
 * const dir = await Deno.makeTempDir();
 * const file = `${dir}/dairouter.yaml`;
 * await Deno.writeTextFile(file, "model: {}\n");
 * const changed = Promise.withResolvers<void>();
 * const stop = watchConfig(file, () => changed.resolve(), { debounceMs: 20 });
 * await Deno.writeTextFile(file, "model: { adapter: ollama }\n");
 * await changed.promise;
 * stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function watchConfig(path: string, onChange: () => void, options: WatchOptions = {}): Disposer {
  const debounceMs = options.debounceMs ?? 200;
  if (!Number.isFinite(debounceMs) || debounceMs < 0) {
    throw new RangeError(`Cannot watch config: "debounceMs" must be >= 0, received ${debounceMs}`);
  }
  const target = resolve(path);
  const name = basename(target);
  const watcher = Deno.watchFs(dirname(target), { recursive: false });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const fire = () => {
    timer = undefined;
    if (!closed) onChange();
  };

  (async () => {
    try {
      for await (const event of watcher) {
        if (event.kind === "access" || !event.paths.some((p) => basename(p) === name)) continue;
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(fire, debounceMs);
      }
    } catch (err) {
      // Closing the watcher ends the loop with an error on some platforms; anything else is real.
      if (!closed) options.onError?.(err);
    }
  })();

  return () => {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    watcher.close();
  };
}
