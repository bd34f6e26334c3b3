/**
 * Reading an OpenAI chat stream (OpenAI API reference, "Streaming": `data: <json>` events, a blank
 * line after each, a final `data: [DONE]`) one upstream chunk at a time: the byte layer of every
 * dialect's {@linkcode StreamTranslator}. A handler turns each parsed event into output text
 * (`chat_stream.ts` is the handler all chat dialects share); this file does the byte work once.
 *
 * Per chunk: one streaming UTF-8 decode (a character split across chunks stays whole), an
 * `indexOf` walk over line ends, one `JSON.parse` per event, one encode of the output. Only the
 * partial line that straddles two chunks is carried over (up to `MAX_PARTIAL_LINE`: past it the
 * stream fails); a complete event is never held back.
 *
 * @module
 */

import { LINE_TOO_LONG, MAX_PARTIAL_LINE } from "../adapters/line_stream.ts";
import { isErrorEvent, upstreamErrorMessage } from "../adapters/upstream_error.ts";
import { isRecord, type Json } from "./request_body.ts";
import type { StreamTranslator } from "./types.ts";

/** What a dialect does with the events of an OpenAI stream. Each call returns text to send. */
export interface OpenAIStreamHandler {
  /** One `chat.completion.chunk` (or any other JSON event without an `error`). */
  chunk(value: Json): string;
  /** The upstream's `data: [DONE]`. */
  done(): string;
  /** The upstream failed (an error event, a broken event, a broken connection). Last call. */
  error(message: string): string;
  /** The upstream closed; the handler says whether that was complete. Last call. */
  end(): string;
  /** Why the handler ended the stream with its error itself (from `chunk`, `done` or `end`), if it did. */
  failed?(): string | undefined;
}

/**
 * Builds a push-style translator from a handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSseTranslator } from "./sse_reader.ts";
 * const seen: string[] = [];
 * const t = createSseTranslator({
 *   chunk: (v) => (seen.push(JSON.stringify(v)), "c"),
 *   done: () => "d",
 *   error: (m) => `e:${m}`,
 *   end: () => "!",
 * });
 * const enc = new TextEncoder();
 * const dec = new TextDecoder();
 * assert.equal(dec.decode(t.push(enc.encode('data: {"a":1}\n\ndata: {"a"'))), "c");
 * assert.equal(dec.decode(t.push(enc.encode(':2}\n\ndata: [DONE]\n\n'))), "cd");
 * assert.equal(dec.decode(t.end()), "!");
 * assert.deepEqual(seen, ['{"a":1}', '{"a":2}']);
 * ```
 */
export function createSseTranslator(handler: OpenAIStreamHandler): StreamTranslator {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let carry = "";
  let data: string | undefined;
  let closed = false;
  let out = "";
  /** Why this reader ended the stream with the handler's error, if it did. */
  let failure: string | undefined;
  const error = (message: string) => {
    closed = true;
    failure ??= message;
    out += handler.error(message);
  };

  const dispatch = () => {
    const payload = data;
    data = undefined;
    // An event whose data is empty is no event (HTML's SSE processing model), not broken JSON.
    if (payload === undefined || payload === "" || closed) return;
    if (payload === "[DONE]") {
      out += handler.done();
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(payload);
    } catch {
      return error("The upstream sent a stream event that is not JSON.");
    }
    if (!isRecord(value)) return;
    if (isErrorEvent(value)) {
      return error(upstreamErrorMessage(value) ?? "The upstream reported an error.");
    }
    out += handler.chunk(value);
  };

  const line = (text: string) => {
    if (text === "") return dispatch();
    if (text.startsWith("data:")) {
      const value = text.charCodeAt(5) === 32 ? text.slice(6) : text.slice(5);
      data = data === undefined ? value : `${data}\n${value}`;
    }
    // `event:`, `id:`, `retry:` and `:` comments carry nothing an OpenAI chat stream needs.
  };

  const lines = (text: string) => {
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0 && !closed; nl = text.indexOf("\n", start)) {
      line(text.charCodeAt(nl - 1) === 13 && nl > start ? text.slice(start, nl - 1) : text.slice(start, nl));
      start = nl + 1;
    }
    carry = closed ? "" : text.slice(start);
    failIfEndless();
  };

  /** A line (or an event's data) that never ends is a broken upstream: fail, hold no more of it. */
  const failIfEndless = () => {
    if (carry.length > MAX_PARTIAL_LINE || (data !== undefined && data.length > MAX_PARTIAL_LINE)) {
      carry = "";
      data = undefined;
      error(LINE_TOO_LONG);
    }
  };

  const take = (): Uint8Array | undefined => {
    if (out === "") return undefined;
    const bytes = encoder.encode(out);
    out = "";
    return bytes;
  };

  return {
    push(chunk) {
      if (closed) return undefined;
      const text = decoder.decode(chunk, { stream: true });
      if (carry !== "" && text.indexOf("\n") < 0) {
        // No line ends here: the carried line grows, and is not scanned again until one does.
        carry += text;
        failIfEndless();
      } else {
        lines(carry === "" ? text : carry + text);
      }
      return take();
    },
    end() {
      if (closed) return take();
      const rest = carry + decoder.decode();
      carry = "";
      if (rest !== "") lines(`${rest}\n`);
      if (!closed) dispatch();
      if (!closed) {
        closed = true;
        out += handler.end();
      }
      return take();
    },
    fail(message) {
      if (!closed) error(message);
      return take();
    },
    // A handler that keeps its own account decides (it may ignore an error after its answer ended).
    failed: () => handler.failed ? handler.failed() : failure,
  };
}

/**
 * Wraps a translator as a `TransformStream` (for `pipeThrough`); the relay can also call the
 * translator directly. The upstream's end calls `end()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSseTranslator, translatorStream } from "./sse_reader.ts";
 * const t = createSseTranslator({ chunk: () => "x", done: () => "", error: () => "", end: () => "." });
 * const out = await new Response(new Response('data: {"a":1}\n\n').body!.pipeThrough(translatorStream(t))).text();
 * assert.equal(out, "x.");
 * ```
 */
export function translatorStream(t: StreamTranslator): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const out = t.push(chunk);
      if (out) controller.enqueue(out);
    },
    flush(controller) {
      const out = t.end();
      if (out) controller.enqueue(out);
    },
  });
}
