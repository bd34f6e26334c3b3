/**
 * Wraps an upstream body so the gateway knows exactly when it ends. The wrapper pulls one chunk
 * per client read (no read-ahead, so backpressure reaches the upstream), re-arms the idle watch on
 * every chunk, keeps the last chunks (at least 2 KiB of them) for usage accounting, optionally
 * rewrites chunks with a synchronous {@linkcode ChunkFilter} (in the same relay: one JS stream per
 * body, not one per rewrite), and calls its observer's `ended` exactly once: when the body
 * completes, errors, or the client cancels it. Its observer is told through methods (no closure
 * per body).
 *
 * @module
 */

import { GatewayError, UpstreamError } from "../errors.ts";
import type { ChunkReader } from "./chunk_reader.ts";
import type { ChunkFilter } from "./stream_usage.ts";

/** How a tracked body ended. */
export type BodyEnd =
  | { readonly outcome: "success" }
  | { readonly outcome: "failure"; readonly error: unknown }
  | { readonly outcome: "abort" };

/**
 * Who is told about the body's progress (an `Attempt`): methods on one object rather than
 * closures, so relaying a body allocates no functions.
 */
export interface BodyObserver {
  /** A chunk arrived (re-arms idle timers); the relay waits for the client to take it. */
  chunk(): void;
  /**
   * The relay asks the upstream for the next chunk (the client took the last one): from now on a
   * silence is the upstream's, not the client's.
   */
  reading?(): void;
  /** Called exactly once with how the body ended and its last bytes. */
  ended(end: BodyEnd, tail: readonly Uint8Array[]): void;
  /** The client cancelled: abort the upstream (`ended` follows). */
  cancelled(): void;
  /**
   * Why the gateway stopped the upstream (a deadline, the shutdown), if it did: a body that then
   * ends is cut, not complete.
   */
  stopped?(): unknown;
}

/** Options for {@linkcode trackBody}. */
export interface TrackBodyOptions {
  /** Chunk already read from `reader` (an attempt reads one before committing). */
  readonly first?: Uint8Array;
  /**
   * The bytes to send when the upstream fails mid-stream (the SSE error event, an NDJSON error
   * line, a client dialect's own), so the client sees a proper end of stream (an error event,
   * then close) instead of a hang or a reset.
   */
  readonly errorEvent?: (error: unknown) => Uint8Array;
  /**
   * Without `errorEvent`: when the upstream fails, end the relay as if the body were complete
   * instead of erroring it, so a mapper after it keeps (and flushes) what it already produced;
   * whoever reads the mapper's output appends the error itself (`mapped_body.ts`). Behind a
   * mapper, a cancel is the mapper (or what follows it) failing, unless its reason is
   * {@linkcode CLIENT_LEFT}: the body then ends as a failure, not as the client's abort.
   */
  readonly closeOnError?: boolean;
  /** Rewrites the chunks on their way to the client (the tail keeps the upstream's own bytes). */
  readonly filter?: ChunkFilter;
}

const ENCODER = new TextEncoder();

/**
 * The SSE event a client gets when its stream fails mid-way, in OpenAI's error shape (the OpenAI
 * SDKs raise it as an error instead of hanging or seeing a reset): the upstream broke, or the
 * gateway cut the stream (a `GatewayError` reason, e.g. at the shutdown deadline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseErrorEvent } from "./tracked_body.ts";
 * const event = new TextDecoder().decode(sseErrorEvent(new Error("reset")));
 * assert.equal(JSON.parse(event.slice(6)).error.code, "upstream_stream_error");
 * ```
 */
export function sseErrorEvent(error: unknown): Uint8Array {
  const message = streamFailure(error);
  const body = error instanceof GatewayError ? { error: { message, type: error.type, code: error.code } } : {
    error: { message, type: "upstream_error", code: "upstream_stream_error" },
  };
  return ENCODER.encode(`data: ${JSON.stringify(body)}\n\n`);
}

/**
 * The line an NDJSON stream (Ollama's native API) ends with when it fails mid-way: Ollama's own
 * `{"error": "…"}` line, which its clients raise as an error; erroring the body instead would only
 * reset the connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ndjsonErrorLine } from "./tracked_body.ts";
 * const line = new TextDecoder().decode(ndjsonErrorLine(new Error("reset")));
 * assert.deepEqual(JSON.parse(line), { error: "Upstream stream ended abnormally: reset" });
 * ```
 */
export function ndjsonErrorLine(error: unknown): Uint8Array {
  return ENCODER.encode(`${JSON.stringify({ error: streamFailure(error) })}\n`);
}

/**
 * What a client is told when its stream breaks: the gateway's reason (a `GatewayError`, e.g. the
 * shutdown cut) as it is, anything else as the upstream's failure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamFailure } from "./tracked_body.ts";
 * assert.equal(streamFailure(new Error("reset")), "Upstream stream ended abnormally: reset");
 * ```
 */
export function streamFailure(error: unknown): string {
  const message = error instanceof Error && error.message ? error.message : "upstream stream failed";
  return error instanceof GatewayError ? message : `Upstream stream ended abnormally: ${message}`;
}

/**
 * The cancel reason a relay after a mapper (`mapped_body.ts`) passes down when the client left,
 * so the tracked body behind the mapper tells the client's abort from the mapper's failure.
 */
export const CLIENT_LEFT: unique symbol = Symbol("client left");

/**
 * How a relay ends when its filter ended the client's stream with its own error event (a
 * dialect's translation of the upstream's error event, of a stream cut before its finish, of an
 * endless line): a failure of the answer itself, whatever bytes the upstream sent last.
 */
export class FilterFailure extends UpstreamError {
  override name = "FilterFailure";
  constructor(message: string) {
    super(message, "upstream_stream_error");
  }
}

const SUCCESS = Object.freeze({ outcome: "success" } as const);
const ABORT: BodyEnd = Object.freeze({ outcome: "abort" });

/**
 * How a body ends as far as its filter can tell: a success, or — when the filter ended
 * the client's stream with its own error event — a {@linkcode FilterFailure}.
 */
export function filterEnd(filter: ChunkFilter | undefined): Exclude<BodyEnd, { outcome: "abort" }> {
  const failed = filter?.failed?.();
  return failed === undefined ? SUCCESS : { outcome: "failure", error: new FilterFailure(failed) };
}

/**
 * Returns a stream that relays `reader` and reports its end once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunkReader } from "./chunk_reader.ts";
 * import { trackBody } from "./tracked_body.ts";
 * let ended = "";
 * const src = chunkReader(new Response("hello").body!);
 * const body = trackBody(src, { chunk() {}, ended: (e) => (ended = e.outcome), cancelled() {} });
 * assert((await new Response(body).text()) === "hello" && ended === "success");
 * ```
 */
export function trackBody(
  reader: ChunkReader,
  observer: BodyObserver,
  options: TrackBodyOptions = {},
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(new TrackedSource(reader, observer, options), { highWaterMark: 0 });
}

type Controller = ReadableStreamDefaultController<Uint8Array>;

/**
 * The upstream's last bytes the relay keeps for the body's end (the usage event, `[DONE]`, an
 * error event): at least this many, in the fewest last chunks that hold them (two at least). A
 * usage event that arrived in small pieces is then still whole.
 */
const TAIL_BYTES = 2048;
/** Most pieces the tail holds before its older ones are joined into one. */
const TAIL_PIECES = 16;

/** The stream's source: one object per body (its fields are the relay's whole state). */
class TrackedSource implements UnderlyingDefaultSource<Uint8Array> {
  #ended = false;
  /** The chunk read before the relay began: relayed first, not counted again. */
  #first: Uint8Array | undefined;
  /** The upstream's last chunks (see {@linkcode TAIL_BYTES}) and their size. */
  readonly #tail: Uint8Array[] = [];
  #tailBytes = 0;

  readonly #reader: ChunkReader;
  readonly #observer: BodyObserver;
  readonly #options: TrackBodyOptions;

  constructor(reader: ChunkReader, observer: BodyObserver, options: TrackBodyOptions) {
    this.#reader = reader;
    this.#observer = observer;
    this.#options = options;
    this.#first = options.first;
    if (options.first) this.#keep(options.first);
  }

  /** Keeps `chunk` in the tail, dropping the oldest chunks the rest already covers. */
  #keep(chunk: Uint8Array): void {
    const tail = this.#tail;
    tail.push(chunk);
    this.#tailBytes += chunk.byteLength;
    while (tail.length > 2 && this.#tailBytes - tail[0].byteLength >= TAIL_BYTES) {
      this.#tailBytes -= tail.shift()!.byteLength;
    }
    // Many small pieces (a trickling upstream): one copy of all but the newest, so the tail is a
    // few objects, not one per byte (each Uint8Array costs ~200 B of heap besides its bytes).
    if (tail.length > TAIL_PIECES) {
      // The older pieces' last TAIL_BYTES (all the tail needs), in one copy.
      const older = this.#tailBytes - chunk.byteLength;
      const merged = new Uint8Array(Math.min(older, TAIL_BYTES));
      let end = merged.byteLength;
      for (let i = tail.length - 2; i >= 0 && end > 0; i--) {
        const piece = tail[i];
        const n = Math.min(piece.byteLength, end);
        merged.set(piece.subarray(piece.byteLength - n), end - n);
        end -= n;
      }
      tail.length = 0;
      tail.push(merged, chunk);
      this.#tailBytes = merged.byteLength + chunk.byteLength;
    }
  }

  async pull(controller: Controller): Promise<void> {
    // Loops until something is enqueued: a pull that enqueues nothing is not called again.
    for (;;) {
      const chunk = this.#first ?? await this.#read(controller);
      this.#first = undefined;
      if (chunk === undefined) return; // the body is over and the stream closed or errored
      const filter = this.#options.filter;
      if (filter === undefined) return controller.enqueue(chunk);
      let out: Uint8Array | undefined;
      try {
        out = filter.push(chunk);
      } catch (error) {
        // A rewrite that cannot go on (a bug): the upstream is let go, the body ends once.
        this.#reader.cancel(error).catch(() => {});
        return this.#fail(controller, error);
      }
      if (out && out.byteLength > 0) controller.enqueue(out);
      const end = filterEnd(filter);
      if (end.outcome === "failure") return this.#filterFailed(controller, end);
      if (out && out.byteLength > 0) return;
    }
  }

  /**
   * The filter ended the client's stream with its own error event (already enqueued): the rest of
   * the upstream is not read, and the body ends as a failure.
   */
  #filterFailed(controller: Controller, end: Extract<BodyEnd, { outcome: "failure" }>): void {
    this.#reader.cancel(end.error).catch(() => {});
    this.#end(end);
    controller.close();
  }

  cancel(reason: unknown): void {
    if (this.#options.closeOnError && reason !== CLIENT_LEFT) {
      this.#end({ outcome: "failure", error: reason }); // the mapper after this relay threw
    } else {
      this.#observer.cancelled();
      this.#end(ABORT);
    }
    this.#reader.cancel(reason).catch(() => {});
  }

  /** The next upstream chunk; `undefined` once the body is over (the stream is then ended). */
  async #read(controller: Controller): Promise<Uint8Array | undefined> {
    let next: Uint8Array | undefined;
    this.#observer.reading?.();
    try {
      next = await this.#reader.read();
    } catch (error) {
      // Already ended: the client cancelled while we were waiting.
      if (!this.#ended) this.#fail(controller, error);
      return undefined;
    }
    if (next === undefined) {
      if (this.#ended) return undefined; // the client cancelled: nothing more to send
      const stopped = this.#observer.stopped?.();
      if (stopped !== undefined) this.#fail(controller, stopped);
      else this.#complete(controller);
      return undefined;
    }
    this.#observer.chunk();
    this.#keep(next);
    return next;
  }

  /** The upstream body is complete: the filter's rest, then close. */
  #complete(controller: Controller): void {
    let rest: Uint8Array | undefined;
    try {
      rest = this.#options.filter?.end();
    } catch (error) {
      return this.#fail(controller, error);
    }
    if (rest) controller.enqueue(rest);
    this.#end(filterEnd(this.#options.filter));
    controller.close();
  }

  /** Ends the body as failed: the error event (or the error), then nothing more. */
  #fail(controller: Controller, error: unknown): void {
    this.#end({ outcome: "failure", error });
    if (this.#options.errorEvent) {
      controller.enqueue(this.#options.errorEvent(error));
      controller.close();
    } else if (this.#options.closeOnError) {
      controller.close();
    } else {
      controller.error(cutError(error));
    }
  }

  #end(e: BodyEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#observer.ended(e, this.#tail);
  }
}

/**
 * What a client's body errors with when the upstream's broke and its format has no error event:
 * Deno's server prints it to stderr as it cuts the connection, so it is one line saying what
 * happened and that it was handled (the access log has the request), not the stack of an
 * internal read that looks like a crash.
 */
export function cutError(cause: unknown): Error {
  if (cause instanceof Error && cause.name === "UpstreamBodyCut") return cause; // cut once already
  const why = cause instanceof Error ? cause.message : String(cause);
  const error = new Error(
    `the upstream's answer broke off (${why}); the client's connection was cut (see the access log)`,
  );
  error.name = "UpstreamBodyCut";
  error.stack = `${error.name}: ${error.message}`;
  return error;
}
