/**
 * Log output. {@linkcode createLineWriter} batches lines into few large writes: one `console.log`
 * per request costs a synchronous write system call on the hot path (the profile showed logging as
 * the largest cost of our own code); lines are instead joined and written at most every `flushMs`
 * or when `maxBytes` pile up. {@linkcode createChunkOutput} writes those chunks (and, in the
 * supervisor, the workers' chunks) in order, with a bound: a stdout that stops reading (a paused
 * terminal, a blocked log driver) costs dropped lines, counted and reported once it reads again,
 * never memory without bound or a stalled request.
 *
 * @module
 */

import { LOG_DEFAULTS } from "../config/defaults.ts";
import type { Schedule } from "../types.ts";
import type { Logger } from "./logger.ts";

/** Receives bytes (e.g. `(b) => Deno.stdout.write(b)`); resolves with how many it took. */
export type Sink = (bytes: Uint8Array) => Promise<number>;

/** Options of {@linkcode createChunkOutput}. */
export interface ChunkOutputOptions {
  readonly sink: Sink;
  /**
   * Bytes accepted but not yet written above which a new chunk is dropped (`log.max-pending-bytes`).
   * @default {LOG_DEFAULTS.maxPendingBytes}
   */
  readonly maxPendingBytes?: number;
  /**
   * Told how many lines (newlines) were dropped, once the sink has caught up to half the bound;
   * what it writes is accepted.
   */
  readonly onDropped?: (lines: number) => void;
}

/** Chunks written whole and in order. */
export interface ChunkOutput {
  /** Queues a chunk; partial writes are continued. The chunk must not be changed afterwards. */
  write(chunk: Uint8Array): void;
  /** Resolves when nothing is left to write, chunks written while it waited included. */
  done(): Promise<void>;
}

/**
 * Creates a bounded, ordered writer of chunks. A failed write (closed stdout) drops that chunk and
 * goes on: logging must never break requests.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createChunkOutput } from "./line_writer.ts";
 * const got: string[] = [];
 * const out = createChunkOutput({ sink: (b) => (got.push(new TextDecoder().decode(b)), Promise.resolve(b.length)) });
 * out.write(new TextEncoder().encode("a\n"));
 * out.write(new TextEncoder().encode("b\n"));
 * await out.done();
 * assert.equal(got.join(""), "a\nb\n");
 * ```
 */
export function createChunkOutput(options: ChunkOutputOptions): ChunkOutput {
  const max = options.maxPendingBytes ?? LOG_DEFAULTS.maxPendingBytes;
  let pending = 0;
  let dropped = 0;
  let writing: Promise<void> = Promise.resolve();

  const drain = async (bytes: Uint8Array) => {
    try {
      for (let offset = 0; offset < bytes.byteLength;) offset += await options.sink(bytes.subarray(offset));
    } catch {
      // A closed stdout must not break requests; the next chunk is tried.
    }
    pending -= bytes.byteLength;
    if (dropped > 0 && pending <= max / 2) {
      const lines = dropped;
      dropped = 0;
      try {
        options.onDropped?.(lines);
      } catch {
        // The report is best effort; the output must go on.
      }
    }
  };
  return {
    write(chunk) {
      // A chunk is always taken when nothing waits, however large, so output never stops for good.
      if (pending > 0 && pending + chunk.byteLength > max) {
        dropped += newlines(chunk);
        return;
      }
      pending += chunk.byteLength;
      writing = writing.then(() => drain(chunk));
    },
    async done() {
      // Chunks written meanwhile (the report of dropped lines is written from inside a write) too.
      for (let last; last !== writing;) await (last = writing);
    },
  };
}

/** Logs that an output dropped `lines` (what the gateway's and the supervisor's stdout are told). */
export function logDropped(logger: Pick<Logger, "warn">, lines: number): void {
  logger.warn("log lines dropped: stdout did not keep up", { event: "log", dropped: lines });
}

function newlines(chunk: Uint8Array): number {
  let n = 0;
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

/** A batching line writer. */
export interface LineWriter {
  /** Queues one line (a newline is added). */
  write(line: string): void;
  /**
   * Writes everything queued; resolves when it is out, including what was written meanwhile
   * (the report of dropped lines comes from inside a write).
   */
  flush(): Promise<void>;
}

/**
 * Options of {@linkcode createLineWriter}: where batches go — a bounded output of its own over
 * `sink`, or `output`, one shared with other writers (the supervisor's, which the workers' chunks
 * go to as well) — and when.
 */
export type LineWriterOptions = (ChunkOutputOptions | { readonly output: ChunkOutput }) & {
  /** Longest a line waits, ms. @default {20} */
  readonly flushMs?: number;
  /** Queued size that triggers a write at once. @default {65536} */
  readonly maxBytes?: number;
  /** Arms the `flushMs` timer; injected by tests. @default setTimeout */
  readonly schedule?: Schedule;
};

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
  const out = "output" in options ? options.output : createChunkOutput(options);
  let queued: string[] = [];
  let size = 0;
  const schedule = options.schedule ?? TIMEOUT;
  let cancel: (() => void) | undefined;

  const flush = async (): Promise<void> => {
    do {
      cancel?.();
      cancel = undefined;
      if (queued.length > 0) {
        out.write(ENCODER.encode(queued.join("\n") + "\n"));
        queued = [];
        size = 0;
      }
      await out.done();
    } while (queued.length > 0);
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
