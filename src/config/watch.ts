/**
 * Watches the files of a configuration and calls back once per burst of changes. Reloading is
 * the caller's job; this only says "it changed".
 *
 * A configuration is often several files: `spring.config.import`s, Spring profile files
 * (`application-dev.yml`), `key-file`s. `loadConfigFile` lists every path it read or looked for
 * (`LoadResult.watched`, also on the `ConfigError` of a load that failed), and
 * {@linkcode watchConfigFiles} follows that list from one load to the next: after a load that
 * succeeded it watches exactly what that load read; after one that failed, that set plus what the
 * failed attempt read (a broken or missing import is part of the fix), so an import added or
 * removed, or an optional import or profile file that appears, is seen like an edit.
 *
 * The files are polled, not watched with `Deno.watchFs`: every `intervalMs` (1 s by default) one
 * `Deno.stat` per file compares its modification and change times, size, device and inode with
 * the last look. A file watcher has to watch the parent directory (editors and `write.ts` replace
 * the file by renaming a new one over it), so it woke the gateway for every write there, a log file
 * next to the config included; a poll costs one stat per file a second whatever happens around it.
 *
 * What counts as a change, for any of the files:
 * - the file written in place, or replaced by a rename (a new inode);
 * - a symlink on the path pointing somewhere else: `stat` follows links, so the swap of a
 *   Kubernetes ConfigMap's `..data` link is seen;
 * - the file removed (the reload then fails and keeps the running config), and its return, or its
 *   first appearance (an optional import created after the start).
 *
 * Once a change is seen, every file must look the same for `debounceMs` before `onChange` runs, so
 * an editor's save or a copy in progress is one call, made when the files are complete. A rewrite
 * that keeps the size within the same millisecond as the last look can go unseen (times have
 * millisecond precision), and a file that joins the set is looked at from the end of the reload
 * that read it (an edit made to it during that reload waits for its next change); SIGHUP reloads
 * regardless.
 *
 * The timer is unref'd: watching never keeps a process alive.
 *
 * @module
 */

import { resolve } from "node:path";
import type { Schedule } from "../types.ts";
import { ConfigError } from "./error.ts";
import type { LoadResult } from "./load.ts";

/** Options of `watchFiles`, `watchConfig` and `watchConfigFiles`. */
export interface WatchOptions {
  /**
   * Time the files must stay unchanged after a change is seen before `onChange` runs; an editor's
   * save is several writes.
   * @default {200}
   */
  readonly debounceMs?: number;
  /**
   * Time between two looks at the files, so also the longest delay before a change is noticed.
   * @default {1000}
   */
  readonly intervalMs?: number;
  /**
   * Called when a file cannot be looked at (say, permission denied), once until it can be again.
   * Watching goes on; a missing file is not an error but a change.
   */
  readonly onError?: (err: unknown, path: string) => void;
  /**
   * Runs the next look after a delay; injected by tests to drive the watcher without sleeping.
   * @default an unref'd setTimeout (watching never keeps a process alive)
   */
  readonly schedule?: Schedule;
}

const UNREF_TIMEOUT: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  Deno.unrefTimer(t);
  return () => clearTimeout(t);
};

/** Stops watching. Safe to call more than once. */
export type Disposer = () => void;

/** The state of the file: metadata that changes with it, or `missing`. */
type Signature = string;
const MISSING: Signature = "missing";

function signatureOf(info: Deno.FileInfo): Signature {
  return `${info.mtime?.getTime()}:${info.ctime?.getTime()}:${info.size}:${info.dev}:${info.ino}`;
}

/** Looks at the file: its signature, or the error that prevented it. */
async function look(path: string): Promise<Signature | { error: unknown }> {
  try {
    return signatureOf(await Deno.stat(path));
  } catch (error) {
    return error instanceof Deno.errors.NotFound ? MISSING : { error };
  }
}

function lookSync(path: string): Signature | undefined {
  try {
    return signatureOf(Deno.statSync(path));
  } catch (error) {
    // Any other error is reported by the first poll, which meets it again.
    return error instanceof Deno.errors.NotFound ? MISSING : undefined;
  }
}

/** A watcher of a set of files. */
export interface FilesWatch {
  /**
   * Watches exactly `paths` from now on. A path already watched keeps its last look (a change
   * seen is not lost); a new one is looked at now, so what it holds now is not a change.
   */
  follow(paths: readonly string[]): void;
  /** The absolute paths watched, in the order given. */
  paths(): readonly string[];
  /** Stops watching. Safe to call more than once. */
  stop(): void;
}

/**
 * Calls `onChange` after any of `paths` was created, modified, renamed over or removed, once the
 * files have then stayed unchanged for `debounceMs`. One stat per file per interval.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { watchFiles } from "./watch.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/application.yml`, "spring.config.import: optional:extra.yml\n");
 * const changed = Promise.withResolvers<void>();
 * const w = watchFiles([`${dir}/application.yml`, `${dir}/extra.yml`], () => changed.resolve(), {
 *   intervalMs: 20,
 *   debounceMs: 20,
 * });
 * await Deno.writeTextFile(`${dir}/extra.yml`, "model: {}\n"); // an optional import appears
 * // The watcher's timer keeps nothing alive (in the gateway, the server does): this deadline does.
 * const deadline = setTimeout(() => changed.reject(new Error("no change seen")), 5_000);
 * await changed.promise;
 * clearTimeout(deadline);
 * w.stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function watchFiles(
  paths: readonly string[],
  onChange: () => void,
  options: WatchOptions = {},
): FilesWatch {
  const debounceMs = options.debounceMs ?? 200;
  if (!Number.isFinite(debounceMs) || debounceMs < 0) {
    throw new RangeError(`Cannot watch config: "debounceMs" must be >= 0, received ${debounceMs}`);
  }
  const intervalMs = options.intervalMs ?? 1000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new RangeError(`Cannot watch config: "intervalMs" must be > 0, received ${intervalMs}`);
  }
  // Each path's last look (`undefined`: it could not be looked at; any look that works is a change).
  let seen = new Map<string, Signature | undefined>();
  // Paths whose last look failed: their error is reported once, until they can be looked at.
  const failing = new Set<string>();
  let changed = false;
  let cancel: (() => void) | undefined;
  let closed = false;
  const setTimer = options.schedule ?? UNREF_TIMEOUT;

  const follow = (next: readonly string[]) => {
    const kept = new Map<string, Signature | undefined>();
    for (const path of next.map((p) => resolve(p))) {
      // Taken now, not at the next poll, so that a change made right after this call is seen.
      if (!kept.has(path)) kept.set(path, seen.has(path) ? seen.get(path) : lookSync(path));
    }
    for (const path of failing) if (!kept.has(path)) failing.delete(path);
    seen = kept;
  };

  // One timer at a time, set after each look completes: looks never overlap, and none is under
  // way while `onChange` runs.
  const schedule = (ms: number) => {
    cancel = setTimer(() => void poll(), ms);
  };

  async function poll(): Promise<void> {
    cancel = undefined;
    const targets = [...seen.keys()];
    const looks = await Promise.all(targets.map(look));
    if (closed) return;
    let fire = false;
    let moved = false;
    const errors: { error: unknown; path: string }[] = [];
    targets.forEach((path, i) => {
      // A path dropped by `follow` while this look was under way is no longer ours.
      if (!seen.has(path)) return;
      const now = looks[i];
      if (typeof now !== "string") {
        if (!failing.has(path)) errors.push({ error: now.error, path });
        failing.add(path);
        return;
      }
      failing.delete(path);
      const before = seen.get(path);
      seen.set(path, now);
      if (now !== before) moved = true;
    });
    if (moved) changed = true;
    else if (changed) {
      changed = false;
      fire = true;
    }
    // Scheduled before the callbacks run, so that one that throws does not end the watching. A
    // change seen is confirmed `debounceMs` later, not a whole interval later.
    schedule(changed ? debounceMs : intervalMs);
    for (const e of errors) options.onError?.(e.error, e.path);
    if (fire) onChange();
  }

  follow(paths);
  schedule(intervalMs);
  return {
    follow: (next) => {
      if (!closed) follow(next);
    },
    paths: () => [...seen.keys()],
    stop: () => {
      if (closed) return;
      closed = true;
      cancel?.();
      cancel = undefined;
    },
  };
}

/**
 * Calls `onChange` after `path` was created, modified, renamed over or removed, once the file has
 * then stayed unchanged for `debounceMs`: {@linkcode watchFiles} of one file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { watchConfig } from "./watch.ts";
 * const dir = await Deno.makeTempDir();
 * const file = `${dir}/dairouter.yaml`;
 * await Deno.writeTextFile(file, "model: {}\n");
 * const changed = Promise.withResolvers<void>();
 * let calls = 0;
 * const stop = watchConfig(file, () => (calls++, changed.resolve()), { intervalMs: 20, debounceMs: 20 });
 * await Deno.writeTextFile(file, "model: { adapter: ollama }\n");
 * // The watcher's timer keeps nothing alive (in the gateway, the server does): this deadline does.
 * const deadline = setTimeout(() => changed.reject(new Error("no change seen")), 5_000);
 * await changed.promise;
 * clearTimeout(deadline);
 * assert.equal(calls, 1);
 * stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function watchConfig(path: string, onChange: () => void, options: WatchOptions = {}): Disposer {
  return watchFiles([path], onChange, options).stop;
}

/** What the reload path tells the watcher of a configuration: each load's outcome. */
export interface ConfigWatch {
  /** A load succeeded and is in force: watch the files it read or looked for. */
  loaded(result: LoadResult): void;
  /**
   * A load was refused (the previous config stays): keep watching the files of the config in
   * force, and also those the failed attempt read or looked for, when its `ConfigError` lists them.
   */
  refused(error: unknown): void;
  /** Stops watching. Safe to call more than once. */
  stop(): void;
}

/**
 * Watches the configuration loaded from `path`: the file itself always, and, once told by
 * `loaded` / `refused`, every file the last load read or looked for (see the module doc).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfigFile } from "./load.ts";
 * import { watchConfigFiles } from "./watch.ts";
 * const dir = await Deno.makeTempDir();
 * const root = `${dir}/application.yml`;
 * await Deno.writeTextFile(root, "spring.profiles.active: dev\nmodel: { adapter: ollama }\n");
 * await Deno.writeTextFile(`${dir}/application-dev.yml`, "model: { adapter: vllm }\n");
 * const changed = Promise.withResolvers<void>();
 * const watch = watchConfigFiles(root, () => changed.resolve(), { intervalMs: 20, debounceMs: 20 });
 * watch.loaded(await loadConfigFile(root, {}));
 * await Deno.writeTextFile(`${dir}/application-dev.yml`, "model: { adapter: tei }\n"); // the profile file
 * const deadline = setTimeout(() => changed.reject(new Error("no change seen")), 5_000);
 * await changed.promise;
 * clearTimeout(deadline);
 * watch.stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function watchConfigFiles(
  path: string,
  onChange: () => void,
  options: WatchOptions = {},
): ConfigWatch {
  const root = resolve(path);
  let inForce: readonly string[] = [];
  const files = watchFiles([root], onChange, options);
  const follow = (...sets: (readonly string[] | undefined)[]) =>
    files.follow([root, ...sets.flatMap((set) => set ?? [])]);
  return {
    loaded(result) {
      inForce = result.watched ?? [];
      follow(inForce);
    },
    refused(error) {
      follow(inForce, error instanceof ConfigError ? error.watched : undefined);
    },
    stop: files.stop,
  };
}
