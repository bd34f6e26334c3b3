/**
 * Batches log lines into few large writes. One `console.log` per request costs a synchronous
 * write system call on the hot path (the profile showed logging as the largest cost of our own
 * code); lines are instead joined and written at most every `flushMs` or when `maxBytes` pile up.
 *
 * @module
 */

import type { Schedule } from "../types.ts";

/** A batching line writer. */
export interface LineWriter {
  /** Queues one line (a newline is added). */
  write(line: string): void;
  /** Writes everything queued; resolves when it is out. */
  flush(): Promise<void>;
}

/** Options of {@linkcode createLineWriter}. */
export interface LineWriterOptions {
  /** Receives the bytes (e.g. `(b) => Deno.stdout.write(b)`); partial writes are continued. */
  readonly sink: (bytes: Uint8Array) => Promise<number>;
  /** Longest a line waits, ms. @default {20} */
  readonly flushMs?: number;
  /** Queued size that triggers a write at once. @default {65536} */
  readonly maxBytes?: number;
  /** Arms the `flushMs` timer; injected by tests. @default setTimeout */
  readonly schedule?: Schedule;
}

const TIMEOUT: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

const ENCODER = new TextEncoder();

/**
 * Creates a writer that batches lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLineWriter } from "./line_writer.ts";
 * const got: string[] = [];
 * const w = createLineWriter({ sink: (b) => (got.push(new TextDecoder().decode(b)), Promise.resolve(b.length)) });
 * w.write("a");
 * w.write("b");
 * await w.flush();
 * assert(got.join("") === "a\nb\n");
 * ```
 */
export function createLineWriter(options: LineWriterOptions): LineWriter {
  const flushMs = options.flushMs ?? 20;
  const maxBytes = options.maxBytes ?? 65536;
  let queued: string[] = [];
  let size = 0;
  const schedule = options.schedule ?? TIMEOUT;
  let cancel: (() => void) | undefined;
  let writing: Promise<void> = Promise.resolve();

  const drain = async (bytes: Uint8Array) => {
    let offset = 0;
    while (offset < bytes.byteLength) offset += await options.sink(bytes.subarray(offset));
  };
  const flush = (): Promise<void> => {
    cancel?.();
    cancel = undefined;
    if (queued.length === 0) return writing;
    const bytes = ENCODER.encode(queued.join("\n") + "\n");
    queued = [];
    size = 0;
    // Writes stay in order; a failed write (closed stdout) must not break requests.
    writing = writing.then(() => drain(bytes)).catch(() => {});
    return writing;
  };
  return {
    write(line) {
      queued.push(line);
      size += line.length + 1;
      if (size >= maxBytes) void flush();
      else if (cancel === undefined) cancel = schedule(() => void flush(), flushMs);
    },
    flush,
  };
}
