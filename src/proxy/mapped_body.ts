/**
 * A streamed answer that an adapter rewrites (`call.mapStream`, e.g. Ollama's NDJSON into OpenAI
 * SSE), and how it ends when the upstream fails mid-way or the gateway cuts it: the error event
 * comes *after* the mapper, in the client's format (its dialect's error event when a reply rewrite
 * has one, else the SSE error event). Put before the mapper, the event would be read as a line of
 * the upstream's format ("The Ollama stream sent a line that is not JSON") and the client would
 * never see the real error.
 *
 * @module
 */

import type { ChunkFilter } from "./stream_usage.ts";
import { stripUsageEvents } from "./stream_usage.ts";
import { type BodyEnd, type BodyObserver, CLIENT_LEFT, filterEnd } from "./tracked_body.ts";

const SUCCESS: BodyEnd = Object.freeze({ outcome: "success" });

/**
 * The observer of the tracked body behind a mapper: it passes everything on to `inner` but a
 * successful end, which it holds until the mapped stream ends too ({@linkcode HeldEnd.settle}).
 * The upstream may complete and the mapper still fail when it flushes (an Ollama stream without
 * its `done: true` line): the attempt then records the failure the client saw, not a success.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeldEnd } from "./mapped_body.ts";
 * const ends: string[] = [];
 * const held = new HeldEnd({ chunk() {}, cancelled() {}, ended: (e) => void ends.push(e.outcome) });
 * held.ended({ outcome: "success" }, []);
 * assert.deepEqual(ends, []);
 * held.settle({ outcome: "failure", error: new Error("no done line") });
 * assert.deepEqual(ends, ["failure"]);
 * ```
 */
export class HeldEnd implements BodyObserver {
  /** The upstream's last bytes, once it completed (its success held). */
  #tail: readonly Uint8Array[] | undefined;
  /** How the mapped stream ended, when it ended before the upstream did. */
  #settled: BodyEnd | undefined;

  constructor(readonly inner: BodyObserver) {}

  chunk(): void {
    this.inner.chunk();
  }

  reading(): void {
    this.inner.reading?.();
  }

  cancelled(): void {
    this.inner.cancelled();
  }

  stopped(): unknown {
    return this.inner.stopped?.();
  }

  ended(end: BodyEnd, tail: readonly Uint8Array[]): void {
    if (end.outcome !== "success") this.inner.ended(end, tail);
    else if (this.#settled) this.inner.ended(this.#settled, tail); // what the client got counts
    else this.#tail = tail;
  }

  /**
   * The mapped stream ended as `end`: a held success becomes that; when the upstream has not
   * ended yet, its success (should it come) is reported as `end` — what the client got.
   */
  settle(end: BodyEnd): void {
    const tail = this.#tail;
    if (tail === undefined) return void (this.#settled ??= end);
    this.#tail = undefined;
    this.inner.ended(end, tail);
  }
}

/** What runs after the mapper, and how a failed stream ends. */
export interface MappedBodyOptions {
  /** Remove the usage-only event the gateway asked for (the client did not). */
  readonly strip: boolean;
  /** The client dialect's rewrite of the mapped (OpenAI) stream, run in this relay. */
  readonly rewrite?: ChunkFilter;
  /** The client's last bytes when the stream failed. */
  readonly errorEvent: (error: unknown) => Uint8Array;
  /** Why the upstream body failed, once it ended; `undefined` when it did not. */
  readonly failure: () => unknown;
  /** The observer of `body`: told how the mapped stream ended once the upstream completed. */
  readonly held?: HeldEnd;
}

/**
 * Pipes `body` (relayed with `closeOnError`, so the mapper keeps and flushes what it produced)
 * through `mapper` and the usage stripper, then relays the result through the rewrite and ends it:
 * with the rewrite's own end when the upstream completed, with `errorEvent` when it failed or the
 * mapper (or the rewrite) threw — never both. A mapper that throws ends the tracked body behind it
 * as a failure (the pipe cancels it with the mapper's error); the client's cancel, as an abort. One
 * that throws when it flushes, after the upstream completed, ends it through `held`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mappedBody } from "./mapped_body.ts";
 * const upper = new TransformStream<Uint8Array, Uint8Array>({
 *   transform: (c, out) => out.enqueue(new TextEncoder().encode(new TextDecoder().decode(c).toUpperCase())),
 * });
 * const body = mappedBody(new Response("data: hi\n\n").body!, upper, {
 *   strip: false,
 *   errorEvent: (e) => new TextEncoder().encode(`error: ${(e as Error).message}\n`),
 *   failure: () => new Error("reset"),
 * });
 * assert.equal(await new Response(body).text(), "DATA: HI\n\nerror: reset\n");
 * ```
 */
export function mappedBody(
  body: ReadableStream<Uint8Array>,
  mapper: TransformStream<Uint8Array, Uint8Array>,
  o: MappedBodyOptions,
): ReadableStream<Uint8Array> {
  let out = body.pipeThrough(mapper);
  if (o.strip) out = out.pipeThrough(stripUsageEvents());
  const reader = out.getReader();
  const fail = (controller: Controller, error: unknown) => failMapped(controller, o, error);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Loops until something is enqueued: a pull that enqueues nothing is not called again.
      for (;;) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (error) {
          // The upstream's failure first: a mapper that then finds its stream unfinished (an
          // Ollama stream without `done`) only follows from it.
          return fail(controller, o.failure() ?? error);
        }
        let chunk: Uint8Array | undefined;
        try {
          if (next.done) return finishMapped(controller, o);
          chunk = o.rewrite ? o.rewrite.push(next.value) : next.value;
        } catch (error) {
          reader.cancel(error).catch(() => {});
          return fail(controller, error);
        }
        if (chunk && chunk.byteLength > 0) controller.enqueue(chunk);
        const end = filterEnd(o.rewrite);
        if (end.outcome === "failure") {
          // The rewrite ended the client's stream with its own error event: the mapper and the
          // upstream behind it are let go, and the tracked body ends as that failure (or, when
          // the upstream had already completed, its held success becomes it).
          o.held?.settle(end);
          reader.cancel(end.error).catch(() => {});
          return controller.close();
        }
        if (chunk && chunk.byteLength > 0) return;
      }
    },
    // The pipes hand this reason down to the tracked body: the client left (not a mapper failure).
    cancel: () => {
      // A client that leaves once the upstream completed (after `[DONE]`, say) got its answer.
      o.held?.settle(SUCCESS);
      return reader.cancel(CLIENT_LEFT);
    },
  }, { highWaterMark: 0 });
}

type Controller = ReadableStreamDefaultController<Uint8Array>;

/** Ends a mapped stream as failed: the error event in the client's format, then close. */
function failMapped(controller: Controller, o: MappedBodyOptions, error: unknown): void {
  controller.enqueue(o.errorEvent(error));
  o.held?.settle({ outcome: "failure", error });
  controller.close();
}

/** A mapped stream is over: the rewrite's last bytes, then close — as the failure, if one said so. */
function finishMapped(controller: Controller, o: MappedBodyOptions): void {
  const error = o.failure();
  if (error !== undefined) return failMapped(controller, o, error);
  const chunk = o.rewrite?.end();
  if (chunk && chunk.byteLength > 0) controller.enqueue(chunk);
  o.held?.settle(filterEnd(o.rewrite));
  controller.close();
}
