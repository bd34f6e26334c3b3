/**
 * The console's one server-sent-events stream per open page. One timer for all pages ticks every
 * second while at least one is connected; each tick is serialised once and queued to every page.
 * Memory is bounded twice: at most `maxClients` pages at a time (the next one gets a 503), and a
 * page whose queue holds more than `maxQueuedBytes` (it stopped reading) is dropped, never
 * buffered for.
 *
 * @module
 */

import { positiveInt } from "./positive_int.ts";
/** Timer functions (injected so tests drive ticks themselves). */
export interface FeedTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** Options of {@linkcode createFeed}. */
export interface FeedOptions {
  /** Builds the tick (serialised once per second for every page). */
  readonly tick: () => unknown;
  /** Pages connected at most. @default {16} */
  readonly maxClients?: number;
  /** Bytes queued for one page before it is dropped. @default {1048576} */
  readonly maxQueuedBytes?: number;
  /** @default {1000} */
  readonly intervalMs?: number;
  /** @default {globalThis} */
  readonly timers?: FeedTimers;
  /** Called when a slow page is dropped. */
  readonly onDrop?: () => void;
}

/** The broadcaster. */
export interface Feed {
  /**
   * Opens a stream starting with `hello` (an `event: hello` message); `undefined` when
   * `maxClients` pages are connected already. The stream ends when `signal` aborts.
   */
  connect(hello: unknown, signal: AbortSignal): ReadableStream<Uint8Array> | undefined;
  /** Sends one tick to every page now (the timer calls this). */
  tick(): void;
  /** Pages connected. */
  readonly clients: number;
  /** Ends every stream, stops the timer and refuses new pages (the gateway is stopping). */
  close(): void;
}

const encoder = new TextEncoder();

/** One SSE message (RFC: `event:` + `data:` lines, blank line); JSON never holds a newline. */
export function sseMessage(event: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * Creates the broadcaster.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createFeed } from "./feed.ts";
 * let n = 0;
 * const feed = createFeed({ tick: () => ({ n: ++n }), timers: { setInterval: () => 1, clearInterval() {} } });
 * const stream = feed.connect({ hi: true }, new AbortController().signal)!;
 * feed.tick();
 * const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
 * let text = "";
 * while (!text.includes("tick")) text += (await reader.read()).value;
 * assert(text.startsWith('event: hello\ndata: {"hi":true}\n\n'));
 * feed.close();
 * ```
 */
export function createFeed(options: FeedOptions): Feed {
  if (typeof options?.tick !== "function") {
    throw new TypeError(
      `Cannot create console feed: "tick" must be a function, received ${typeof options?.tick}`,
    );
  }
  const maxClients = positiveInt("console feed", "maxClients", options.maxClients ?? 16);
  const maxQueued = positiveInt("console feed", "maxQueuedBytes", options.maxQueuedBytes ?? 1024 * 1024);
  const intervalMs = positiveInt("console feed", "intervalMs", options.intervalMs ?? 1000);
  const timers: FeedTimers = options.timers ?? {
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (handle) => clearInterval(handle as number),
  };
  const clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let timer: unknown;
  let closed = false;

  const remove = (c: ReadableStreamDefaultController<Uint8Array>) => {
    if (!clients.delete(c)) return;
    try {
      c.close();
    } catch { /* already closed or errored */ }
    if (clients.size === 0 && timer !== undefined) {
      timers.clearInterval(timer);
      timer = undefined;
    }
  };

  const feed: Feed = {
    connect(hello, signal) {
      if (closed || clients.size >= maxClients) return undefined;
      let self: ReadableStreamDefaultController<Uint8Array>;
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          self = c;
          clients.add(c);
          c.enqueue(sseMessage("hello", hello));
        },
        cancel() {
          remove(self);
        },
      }, { highWaterMark: maxQueued, size: (chunk) => chunk.byteLength });
      signal.addEventListener("abort", () => remove(self), { once: true });
      if (timer === undefined) timer = timers.setInterval(() => feed.tick(), intervalMs);
      return stream;
    },
    tick() {
      if (clients.size === 0) return;
      const bytes = sseMessage("tick", options.tick());
      for (const c of [...clients]) {
        // A page that does not read lets its queue grow: drop it rather than buffer for it.
        if ((c.desiredSize ?? 0) < bytes.byteLength) {
          remove(c);
          options.onDrop?.();
          continue;
        }
        c.enqueue(bytes);
      }
    },
    get clients() {
      return clients.size;
    },
    close() {
      closed = true;
      for (const c of [...clients]) remove(c);
    },
  };
  return feed;
}
