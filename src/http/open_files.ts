/**
 * How many files (sockets included) the process has open, and how many it may: what
 * `server.max-connections` is measured against. Linux only (`/proc/self`); elsewhere the count is
 * unknown and the cap is off.
 *
 * @module
 */

/** The file-system calls used, injectable for tests (`main.ts` passes Deno's). */
export interface ProcFs {
  readonly statSync: (path: string) => { readonly size: number };
  readonly readDirSync: (path: string) => Iterable<unknown>;
  readonly readTextFileSync: (path: string) => string;
}

const FD_DIR = "/proc/self/fd";

/**
 * A counter of the process's open files, or `undefined` where `/proc/self/fd` does not exist.
 * Linux ≥ 6.2 reports the count as the directory's size (one `stat`); older kernels report 0,
 * and the directory is listed instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createOpenFileCounter } from "./open_files.ts";
 * const count = createOpenFileCounter({
 *   statSync: () => ({ size: 0 }),
 *   readDirSync: () => [1, 2, 3],
 *   readTextFileSync: () => "",
 * });
 * assert.equal(count?.(), 3);
 * ```
 */
export function createOpenFileCounter(fs: ProcFs): (() => number | undefined) | undefined {
  try {
    fs.statSync(FD_DIR);
  } catch {
    return undefined;
  }
  return () => {
    try {
      const size = fs.statSync(FD_DIR).size;
      if (size > 0) return size;
      let n = 0;
      for (const _ of fs.readDirSync(FD_DIR)) n++;
      return n;
    } catch {
      return undefined;
    }
  };
}

/**
 * The soft limit on open files (`ulimit -n`, systemd's `LimitNOFILE`), or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openFileLimit } from "./open_files.ts";
 * const limits = "Limit                     Soft Limit           Hard Limit           Units\n" +
 *   "Max open files            65536                65536                files\n";
 * assert.equal(openFileLimit({ statSync: () => ({ size: 0 }), readDirSync: () => [], readTextFileSync: () => limits }), 65536);
 * ```
 */
export function openFileLimit(fs: ProcFs): number | undefined {
  try {
    const line = fs.readTextFileSync("/proc/self/limits").split("\n").find((l) =>
      l.startsWith("Max open files")
    );
    const soft = Number(line?.slice("Max open files".length).trim().split(/\s+/)[0]);
    return Number.isInteger(soft) && soft > 0 ? soft : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `server.max-connections` when it is 0 (automatic): 80 % of the open-file limit, leaving room
 * for upstream sockets and files before `EMFILE`; 0 (off) when the limit or the count is unknown.
 */
export function automaticMaxConnections(limit: number | undefined): number {
  return limit === undefined ? 0 : Math.floor(limit * 0.8);
}
