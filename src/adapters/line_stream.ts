/**
 * A byte-stream transform that hands complete lines to a mapper, for NDJSON and SSE upstreams.
 * It never buffers more than the one partial line that straddles two chunks, so tokens reach
 * the client as soon as the backend sends them.
 *
 * @module
 */

/**
 * The longest line a stream reader carries over while it waits for the line's end (UTF-16 code
 * units). An upstream that sends more without a line end is broken or not speaking the protocol;
 * a parser fails the stream, a filter lets the bytes through as they are. Either way, neither memory
 * nor the re-scan of a growing partial line is left without bound.
 */
export const MAX_PARTIAL_LINE = 8 * 1024 * 1024;

/** The error a stream parser fails with past {@linkcode MAX_PARTIAL_LINE}. */
export const LINE_TOO_LONG = `The upstream sent more than ${MAX_PARTIAL_LINE >> 20} MiB without a line end.`;

/**
 * What a line mapper returns for one input line: text to emit (possibly empty). It throws to fail
 * the stream (what the earlier lines of the same chunk produced still goes out first).
 */
export type LineHandler = (line: string) => string;

/** Callbacks of a line transform. */
export interface LineTransformOptions {
  /** Called for every complete line (without its `\n`/`\r\n`), blank lines included. */
  readonly line: LineHandler;
  /** Called once when the upstream ends cleanly; returns trailing text (e.g. `data: [DONE]`). */
  readonly end?: () => string;
}

/**
 * Builds the transform. UTF-8 is decoded in streaming mode, so a multi-byte character split
 * across chunks is kept intact.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLineTransform } from "./line_stream.ts";
 * const t = createLineTransform({ line: (l) => l.toUpperCase() + ";", end: () => "!" });
 * const out = await new Response(
 *   new Response("ab\ncd\nef").body!.pipeThrough(t),
 * ).text();
 * assert(out === "AB;CD;EF;!");
 * ```
 */
export function createLineTransform(opts: LineTransformOptions): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let partial = "";
  const emit = (controller: TransformStreamDefaultController<Uint8Array>, text: string) => {
    if (text !== "") controller.enqueue(encoder.encode(text));
  };
  const drain = (controller: TransformStreamDefaultController<Uint8Array>, text: string) => {
    let start = 0;
    let nl = text.indexOf("\n");
    let out = "";
    try {
      while (nl >= 0) {
        const raw = text.slice(start, nl);
        out += opts.line(raw.endsWith("\r") ? raw.slice(0, -1) : raw);
        start = nl + 1;
        nl = text.indexOf("\n", start);
      }
    } catch (error) {
      // A line that fails the stream: what the lines before it produced goes out first (to the read
      // waiting for it: a transform runs only when one waits, so the error does not drop it).
      emit(controller, out);
      throw error;
    }
    partial = text.slice(start);
    // One enqueue per upstream chunk keeps the downstream chunking close to the upstream's.
    emit(controller, out);
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const text = decoder.decode(chunk, { stream: true });
      if (text.indexOf("\n") >= 0) return drain(controller, partial + text);
      // No line ends here: the partial line grows, and is not scanned again until one does.
      partial += text;
      if (partial.length > MAX_PARTIAL_LINE) throw new Error(LINE_TOO_LONG);
    },
    flush(controller) {
      const rest = partial + decoder.decode();
      partial = "";
      let out = rest === "" ? "" : opts.line(rest.endsWith("\r") ? rest.slice(0, -1) : rest);
      if (opts.end) out += opts.end();
      emit(controller, out);
    },
  });
}
