/**
 * The console's one server-sent-events stream per open page. One timer for all pages ticks every
 * second while at least one is connected; each tick is serialised once and queued to every page.
 *
 * Who may hold a page: at most `maxClients` pages at a time, of which at most `maxReadOnly` read
 * without the admin token (`console.public-read`); an admin page that finds every place taken ends
 * the oldest read-only page instead of being refused, so anonymous pages can never lock the operator
 * out. Only admin pages can refuse an admin page.
 *
 * Memory and places are bounded by what a page takes, twice: a page whose oldest queued message has
 * waited `writeTimeoutMs` (it stopped reading, or reads slower than the feed is written) is dropped,
 * and so is one whose queue would pass `maxQueuedBytes`, never buffered for. A dropped page's stream
 * errors, which cuts its connection. The queue is the feed's own: the stream hands a message to the
 * HTTP server only when it asks for one, so what waits in the queue is exactly what the page has not
 * taken (behind the socket's own buffers, which the operating system bounds).
 *
 * @module
 */

import { positiveInt } from "./positive_int.ts";
/** Timer functions (injected so tests drive ticks themselves). */
export interface FeedTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** Who reads a page: the admin token's holder, or anyone (`console.public-read`). */
export type FeedAccess = "admin" | "read";

/** Why a page was dropped. */
export type FeedDropReason =
  /** Its oldest queued message waited `writeTimeoutMs`. */
  | "stalled"
  /** Its queue would have passed `maxQueuedBytes`. */
  | "full"
  /** A read-only page, ended to make room for an admin page. */
  | "evicted";

/** Options of {@linkcode createFeed}. */
export interface FeedOptions {
  /** Builds the tick (serialised once per second for every page). */
  readonly tick: () => unknown;
  /** Milliseconds since the epoch (injected so tests move time themselves). */
  readonly clock: () => number;
  /** Pages connected at most, admin and read-only together. @default {16} */
  readonly maxClients?: number;
  /** Read-only pages connected at most (<= `maxClients`). @default {half of maxClients, at least 1} */
  readonly maxReadOnly?: number;
  /** Bytes queued for one page before it is dropped. @default {1048576} */
  readonly maxQueuedBytes?: number;
  /** How long a queued message may wait for its page before the page is dropped. @default {10000} */
  readonly writeTimeoutMs?: number;
  /** @default {1000} */
  readonly intervalMs?: number;
  /** @default {globalThis} */
  readonly timers?: FeedTimers;
  /** Called when a page is dropped (not when it leaves or the feed closes). */
  readonly onDrop?: (reason: FeedDropReason, access: FeedAccess) => void;
}

/** The broadcaster. */
export interface Feed {
  /**
   * Opens a stream starting with `hello` (an `event: hello` message) for a page of `access`
   * (`"read"` unless told); `undefined` when no place is left for it. The stream ends when `signal`
   * aborts.
   */
  connect(hello: unknown, signal: AbortSignal, access?: FeedAccess): ReadableStream<Uint8Array> | undefined;
  /** Sends one tick to every page now (the timer calls this). */
  tick(): void;
  /** Pages connected. */
  readonly clients: number;
  /** Read-only pages connected. */
  readonly readOnly: number;
  /** Ends every stream, stops the timer and refuses new pages (the gateway is stopping). */
  close(): void;
}

/** One connected page and what waits for it. */
interface Page {
  readonly access: FeedAccess;
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  /** Messages not yet handed to the HTTP server, oldest first, with when each was queued. */
  readonly queue: { readonly bytes: Uint8Array; readonly at: number }[];
  queuedBytes: number;
  /** The server asked for a message and none was queued: the next one goes straight to it. */
  asked: boolean;
}

const encoder = new TextEncoder();

/** One SSE message (RFC: `event:` + `data:` lines, blank line); JSON never holds a newline. */
export function sseMessage(event: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** What ends a dropped page's stream: Deno prints it once on stderr, so one line, no stack. */
function droppedError(reason: FeedDropReason): Error {
  const why = reason === "evicted"
    ? "a read-only page made room for an admin page"
    : reason === "stalled"
    ? "a page took nothing from its feed for too long"
    : "a page let too much of its feed queue up";
  const error = new Error(`console page dropped (${reason}): ${why}; its connection was cut`);
  error.name = "ConsolePageDropped";
  error.stack = `${error.name}: ${error.message}`;
  return error;
}

/**
 * Creates the broadcaster.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createFeed } from "./feed.ts";
 * let n = 0;
 * const feed = createFeed({
 *   tick: () => ({ n: ++n }),
 *   clock: () => 0,
 *   timers: { setInterval: () => 1, clearInterval() {} },
 * });
 * const stream = feed.connect({ hi: true }, new AbortController().signal, "admin")!;
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
  if (typeof options.clock !== "function") {
    throw new TypeError(
      `Cannot create console feed: "clock" must be a function, received ${typeof options.clock}`,
    );
  }
  const clock = options.clock;
  const maxClients = positiveInt("console feed", "maxClients", options.maxClients ?? 16);
  const maxReadOnly = positiveInt(
    "console feed",
    "maxReadOnly",
    options.maxReadOnly ?? Math.max(1, Math.floor(maxClients / 2)),
  );
  if (maxReadOnly > maxClients) {
    throw new RangeError(
      `Cannot create console feed: "maxReadOnly" must be <= maxClients (${maxClients}), received ${maxReadOnly}`,
    );
  }
  const maxQueued = positiveInt("console feed", "maxQueuedBytes", options.maxQueuedBytes ?? 1024 * 1024);
  const writeTimeoutMs = positiveInt("console feed", "writeTimeoutMs", options.writeTimeoutMs ?? 10_000);
  const intervalMs = positiveInt("console feed", "intervalMs", options.intervalMs ?? 1000);
  const timers: FeedTimers = options.timers ?? {
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (handle) => clearInterval(handle as number),
  };
  // Insertion order is connection order: the first read-only page found is the oldest.
  const pages = new Set<Page>();
  let readOnly = 0;
  let timer: unknown;
  let closed = false;

  /** Forgets `page`; its stream closes (it left, or the feed closes) or errors (it was dropped). */
  const remove = (page: Page, dropped?: FeedDropReason) => {
    if (!pages.delete(page)) return;
    if (page.access === "read") readOnly--;
    page.queue.length = 0;
    page.queuedBytes = 0;
    try {
      // An errored body makes the server cut the connection: a page that stopped reading would
      // otherwise keep it open, waiting for the end of a stream it never takes.
      if (dropped) page.controller.error(droppedError(dropped));
      else page.controller.close();
    } catch { /* already closed or errored */ }
    if (pages.size === 0 && timer !== undefined) {
      timers.clearInterval(timer);
      timer = undefined;
    }
    if (dropped) options.onDrop?.(dropped, page.access);
  };

  /** Hands `bytes` to the server if it asked, else queues it (the page is dropped past a bound). */
  const send = (page: Page, bytes: Uint8Array, now: number) => {
    if (page.asked) {
      page.asked = false;
      page.controller.enqueue(bytes);
      return;
    }
    const oldest = page.queue[0];
    if (oldest !== undefined && now - oldest.at >= writeTimeoutMs) return remove(page, "stalled");
    if (page.queuedBytes + bytes.byteLength > maxQueued) return remove(page, "full");
    page.queue.push({ bytes, at: now });
    page.queuedBytes += bytes.byteLength;
  };

  /** The server asks for the next message (its previous write went out). */
  const take = (page: Page) => {
    const next = page.queue.shift();
    if (next === undefined) {
      page.asked = true;
      return;
    }
    page.queuedBytes -= next.bytes.byteLength;
    page.controller.enqueue(next.bytes);
  };

  /** Whether a page of `access` may join, making room by ending a read-only page for an admin one. */
  const admit = (access: FeedAccess): boolean => {
    if (access === "read") return readOnly < maxReadOnly && pages.size < maxClients;
    if (pages.size < maxClients) return true;
    for (const page of pages) {
      if (page.access === "read") {
        remove(page, "evicted");
        return true;
      }
    }
    return false;
  };

  const feed: Feed = {
    connect(hello, signal, access = "read") {
      if (closed || !admit(access)) return undefined;
      let page: Page;
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          page = { access, controller, queue: [], queuedBytes: 0, asked: false };
          pages.add(page);
          if (access === "read") readOnly++;
          send(page, sseMessage("hello", hello), clock());
        },
        pull() {
          take(page);
        },
        cancel() {
          remove(page);
        },
        // Nothing is buffered in the stream itself: every message waits in the page's queue, where
        // its age is known, until the server asks for it.
      }, { highWaterMark: 0 });
      signal.addEventListener("abort", () => remove(page), { once: true });
      if (timer === undefined) timer = timers.setInterval(() => feed.tick(), intervalMs);
      return stream;
    },
    tick() {
      if (pages.size === 0) return;
      const bytes = sseMessage("tick", options.tick());
      const now = clock();
      for (const page of [...pages]) send(page, bytes, now);
    },
    get clients() {
      return pages.size;
    },
    get readOnly() {
      return readOnly;
    },
    close() {
      closed = true;
      for (const page of [...pages]) remove(page);
    },
  };
  return feed;
}
