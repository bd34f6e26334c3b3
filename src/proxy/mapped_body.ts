/**
 * A streamed answer that an adapter rewrites (`call.mapStream`, e.g. Ollama's NDJSON into OpenAI
 * SSE), and how it ends when the upstream fails mid-way or the gateway cuts it: the error event
 * comes *after* the mapper, in the format the mapper writes. Put before it, the mapper would read
 * the event as a line of the upstream's format ("The Ollama stream sent a line that is not JSON")
 * and the client would never see the real error.
 *
 * @module
 */

import { stripUsageEvents } from "./stream_usage.ts";
import { sseErrorEvent } from "./tracked_body.ts";

/**
 * Pipes `body` (relayed with `closeOnError`) through `mapper` — and the usage stripper when the
 * gateway asked for usage the client did not — then ends with an SSE error event when `failure()`
 * reports why the upstream body failed (`undefined`: it did not) or when the mapper itself throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mappedBody } from "./mapped_body.ts";
 * const upper = new TransformStream<Uint8Array, Uint8Array>({
 *   transform: (c, out) => out.enqueue(new TextEncoder().encode(new TextDecoder().decode(c).toUpperCase())),
 * });
 * const body = mappedBody(new Response("data: hi\n\n").body!, upper, false, () => new Error("reset"));
 * const text = await new Response(body).text();
 * assert(text.startsWith("DATA: HI\n\n") && text.includes("reset"));
 * ```
 */
export function mappedBody(
  body: ReadableStream<Uint8Array>,
  mapper: TransformStream<Uint8Array, Uint8Array>,
  strip: boolean,
  failure: () => unknown,
): ReadableStream<Uint8Array> {
  let out = body.pipeThrough(mapper);
  if (strip) out = out.pipeThrough(stripUsageEvents());
  const reader = out.getReader();
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: unknown) => {
    controller.enqueue(sseErrorEvent(error));
    controller.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        return fail(controller, error);
      }
      if (!next.done) return controller.enqueue(next.value);
      const error = failure();
      if (error !== undefined) fail(controller, error);
      else controller.close();
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}
