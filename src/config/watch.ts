/**
 * Watches the configuration file and calls back once per burst of changes. Reloading is the
 * caller's job; this only says "it changed".
 *
 * The file is polled, not watched with `Deno.watchFs`: every `intervalMs` (1 s by default) one
 * `Deno.stat` compares its modification and change times, size, device and inode with the last
 * look. A file watcher has to watch the parent directory (editors and `write.ts` replace the file
 * by renaming a new one over it), so it woke the gateway for every write there, a log file next
 * to the config included; a poll costs one stat a second whatever happens around the file.
 *
 * What counts as a change:
 * - the file written in place, or replaced by a rename (a new inode);
 * - a symlink on the path pointing somewhere else: `stat` follows links, so the swap of a
 *   Kubernetes ConfigMap's `..data` link is seen;
 * - the file removed (the reload then fails and keeps the running config), and its return.
 *
 * Once a change is seen, the file must look the same for `debounceMs` before `onChange` runs, so
 * an editor's save or a copy in progress is one call, made when the file is complete. A rewrite
 * that keeps the size within the same millisecond as the last look can go unseen (times have
 * millisecond precision); SIGHUP reloads regardless.
 *
 * The timer is unref'd: watching never keeps a process alive.
 *
 * @module
 */

import { resolve } from "node:path";
import type { Schedule } from "../types.ts";

/** Options of `watchConfig`. */
export interface WatchOptions {
  /**
   * Time the file must stay unchanged after a change is seen before `onChange` runs; an editor's
   * save is several writes.
   * @default {200}
   */
  readonly debounceMs?: number;
  /**
   * Time between two looks at the file, so also the longest delay before a change is noticed.
   * @default {1000}
   */
  readonly intervalMs?: number;
  /**
   * Called when the file cannot be looked at (say, permission denied), once until it can be
   * again. Watching goes on; a missing file is not an error but a change.
   */
  readonly onError?: (err: unknown) => void;
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

/**
 * Calls `onChange` after `path` was created, modified, renamed over or removed, once the file has
 * then stayed unchanged for `debounceMs`.
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
  const debounceMs = options.debounceMs ?? 200;
  if (!Number.isFinite(debounceMs) || debounceMs < 0) {
    throw new RangeError(`Cannot watch config: "debounceMs" must be >= 0, received ${debounceMs}`);
  }
  const intervalMs = options.intervalMs ?? 1000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new RangeError(`Cannot watch config: "intervalMs" must be > 0, received ${intervalMs}`);
  }
  const target = resolve(path);
  // Taken now, not at the first poll, so that a change made right after this call is seen.
  let seen = lookSync(target);
  let changed = false;
  let failing = false;
  let cancel: (() => void) | undefined;
  let closed = false;
  const setTimer = options.schedule ?? UNREF_TIMEOUT;

  // One timer at a time, set after each look completes: looks never overlap, and none is under
  // way while `onChange` runs.
  const schedule = (ms: number) => {
    cancel = setTimer(() => void poll(), ms);
  };

  async function poll(): Promise<void> {
    cancel = undefined;
    const now = await look(target);
    if (closed) return;
    let fire = false;
    let error: { error: unknown } | undefined;
    if (typeof now !== "string") {
      if (!failing) error = now;
      failing = true;
    } else {
      failing = false;
      if (now !== seen) {
        seen = now;
        changed = true;
      } else if (changed) {
        changed = false;
        fire = true;
      }
    }
    // Scheduled before the callbacks run, so that one that throws does not end the watching. A
    // change seen is confirmed `debounceMs` later, not a whole interval later.
    schedule(changed ? debounceMs : intervalMs);
    if (error) options.onError?.(error.error);
    if (fire) onChange();
  }

  schedule(intervalMs);
  return () => {
    if (closed) return;
    closed = true;
    cancel?.();
    cancel = undefined;
  };
}
