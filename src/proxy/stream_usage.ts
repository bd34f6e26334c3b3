/**
 * Token accounting for streams whose client did not ask for usage. OpenAI-compatible servers only
 * report usage in a stream when `stream_options.include_usage` is set; the gateway sets it, reads
 * the final usage chunk for metrics, and removes that chunk so the client gets exactly the stream
 * it asked for (OpenAI API reference, "stream_options").
 *
 * @module
 */

import { MAX_PARTIAL_LINE } from "../adapters/line_stream.ts";

const ENCODER = new TextEncoder();

/**
 * A streamed chat body that does not ask for usage, asking for it (a new object); `undefined`
 * when it streams not, already asks, or has a `stream_options` that is neither `null` nor an object. The call
 * asks only of backends whose adapter says `acceptsStreamOptions`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withUsageOption } from "./stream_usage.ts";
 * const asked = withUsageOption({ model: "m", stream: true, messages: [] });
 * assert.deepEqual(asked?.stream_options, { include_usage: true });
 * ```
 */
export function withUsageOption(value: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!needsUsageOption(value)) return undefined;
  return {
    ...value,
    stream_options: { ...(value.stream_options as object | undefined), include_usage: true },
  };
}

/** Whether {@linkcode withUsageOption} would change `value` (nothing is allocated to find out). */
export function needsUsageOption(value: Record<string, unknown>): boolean {
  if (value.stream !== true) return false;
  const opts = value.stream_options;
  // `null` is OpenAI's "not set", as an absent field is.
  if (opts === undefined || opts === null) return true;
  if (typeof opts !== "object" || Array.isArray(opts)) return false;
  return (opts as { include_usage?: unknown }).include_usage !== true;
}

const USAGE_ONLY = /"choices"\s*:\s*\[\s*\]/;
const USAGE_BYTES = new TextEncoder().encode('"usage"');

/**
 * True when the chunk ends an SSE event (a blank line: `\n\n`, or `\r\n\r\n` as sse-starlette
 * writes by default), so no partial event is carried over.
 */
function endsWithEventEnd(chunk: Uint8Array): boolean {
  const n = chunk.byteLength;
  if (n < 2 || chunk[n - 1] !== 10) return false;
  return chunk[n - 2] === 10 || (n >= 4 && chunk[n - 2] === 13 && chunk[n - 3] === 10);
}

/** Where the SSE event that starts at or after `from` ends (past its blank line), or -1. */
function eventEnd(text: string, from: number): number {
  for (let nl = text.indexOf("\n", from); nl >= 0; nl = text.indexOf("\n", nl + 1)) {
    const next = text.charCodeAt(nl + 1);
    if (next === 10) return nl + 2;
    if (next === 13 && text.charCodeAt(nl + 2) === 10) return nl + 3;
  }
  return -1;
}

/** Where the scan anchors in `"usage"`: its `g`, far rarer in JSON than the quote it starts with. */
const ANCHOR = 4;

/**
 * Byte scan for `"usage"`: cheaper than decoding every chunk of every stream. It looks for the
 * needle's `g` with the native `indexOf` and compares around it (11× faster than anchoring on
 * `"`, which every JSON key and value starts with).
 */
export function containsUsage(chunk: Uint8Array): boolean {
  const n = USAGE_BYTES.length;
  const last = chunk.byteLength - (n - ANCHOR);
  outer: for (
    let i = chunk.indexOf(USAGE_BYTES[ANCHOR], ANCHOR);
    i >= 0 && i <= last;
    i = chunk.indexOf(USAGE_BYTES[ANCHOR], i + 1)
  ) {
    for (let j = 0; j < n; j++) if (chunk[i - ANCHOR + j] !== USAGE_BYTES[j]) continue outer;
    return true;
  }
  return false;
}
const HAS_USAGE = /"usage"\s*:\s*\{/;

/**
 * A synchronous rewrite of a byte stream, applied chunk by chunk inside the relay (no extra
 * `TransformStream` hop per chunk).
 */
export interface ChunkFilter {
  /** The bytes to pass on for `chunk` (`undefined`: nothing yet). */
  push(chunk: Uint8Array): Uint8Array | undefined;
  /** What is left when the stream ends. */
  end(): Uint8Array | undefined;
  /**
   * Why the filter ended the client's stream with its own error event, if it did (a dialect's
   * translation: `StreamTranslator.failed`); the relay then stops reading and ends as a failure.
   */
  failed?(): string | undefined;
}

/**
 * Removes the usage-only SSE event (`choices: []` with `usage`) from a stream. Events pass through
 * as soon as they are complete; only a partial event is carried to the next chunk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usageStripper } from "./stream_usage.ts";
 * const strip = usageStripper();
 * const out = new TextDecoder().decode(strip.push(new TextEncoder().encode(
 *   'data: {"choices":[{"delta":{}}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":1}}\n\ndata: [DONE]\n\n',
 * )));
 * assert(!out.includes("usage") && out.endsWith("data: [DONE]\n\n") && strip.end() === undefined);
 * ```
 */
export function usageStripper(): ChunkFilter {
  const decoder = new TextDecoder();
  let carry = "";
  /** The last two characters of `carry`: an event's blank line may straddle two chunks. */
  let carryEnd = "";
  // Set when an over-long event was let through before its end: the decoder may then hold part of
  // a character, so the undecoded fast path waits until a chunk ends an event again.
  let passing = false;
  /** An event this long is no usage event: on it goes as it is, and nothing more is held. */
  const letThrough = (kept: string): string => {
    if (carry.length <= MAX_PARTIAL_LINE) return kept;
    kept += carry;
    carry = carryEnd = "";
    passing = true;
    return kept;
  };
  return {
    push(chunk) {
      // Fast path: a chunk of whole events without the word "usage" passes as is, undecoded.
      if (carry === "" && !passing && endsWithEventEnd(chunk) && !containsUsage(chunk)) return chunk;
      const decoded = decoder.decode(chunk, { stream: true });
      // (`carryEnd`, not `carry.slice(-2)`: slicing the carried rope would copy it whole.)
      if (carry !== "" && eventEnd(carryEnd + decoded, 0) < 0) {
        // No event ends here: the carried event grows, and is not scanned again until one does.
        carry += decoded;
        carryEnd = (carryEnd + decoded).slice(-2);
        const out = letThrough("");
        return out ? ENCODER.encode(out) : undefined;
      }
      const text = carry + decoded;
      let kept = "";
      let start = 0;
      for (let end = eventEnd(text, 0); end >= 0; end = eventEnd(text, start)) {
        const event = text.slice(start, end);
        if (!(HAS_USAGE.test(event) && USAGE_ONLY.test(event))) kept += event;
        start = end;
      }
      carry = text.slice(start);
      carryEnd = carry.slice(-2);
      if (carry === "") passing = false; // the chunk ended an event: the decoder holds nothing
      kept = letThrough(kept);
      return kept ? ENCODER.encode(kept) : undefined;
    },
    end() {
      const rest = carry + decoder.decode();
      carry = carryEnd = "";
      return rest ? ENCODER.encode(rest) : undefined;
    },
  };
}

/**
 * {@linkcode usageStripper} as a `TransformStream`, for streams an adapter already rewrites.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stripUsageEvents } from "./stream_usage.ts";
 * const sse = 'data: {"choices":[{"delta":{}}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":1}}\n\ndata: [DONE]\n\n';
 * const out = await new Response(new Response(sse).body!.pipeThrough(stripUsageEvents())).text();
 * assert(!out.includes("usage") && out.endsWith("data: [DONE]\n\n"));
 * ```
 */
export function stripUsageEvents(): TransformStream<Uint8Array, Uint8Array> {
  return filterStream(usageStripper());
}

/**
 * A {@linkcode ChunkFilter} as a `TransformStream`, for a stream an adapter already rewrote
 * (one more hop; the relay applies filters inline everywhere else).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filterStream } from "./stream_usage.ts";
 * const upper = { push: (c: Uint8Array) => c.map((b) => b - 32), end: () => undefined };
 * assert.equal(await new Response(new Response("abc").body!.pipeThrough(filterStream(upper))).text(), "ABC");
 * ```
 */
export function filterStream(filter: ChunkFilter): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, c) {
      const out = filter.push(chunk);
      if (out) c.enqueue(out);
    },
    flush(c) {
      const out = filter.end();
      if (out) c.enqueue(out);
    },
  });
}

/**
 * Two filters one after the other (the usage stripper, then the model's public name).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chainFilters } from "./stream_usage.ts";
 * const add = (n: number) => ({ push: (c: Uint8Array) => c.map((b) => b + n), end: () => undefined });
 * assert.deepEqual(chainFilters(add(1), add(2)).push(new Uint8Array([1])), new Uint8Array([4]));
 * ```
 */
export function chainFilters(first: ChunkFilter, second: ChunkFilter): ChunkFilter {
  return {
    push(chunk) {
      const mid = first.push(chunk);
      return mid === undefined ? undefined : second.push(mid);
    },
    end() {
      const mid = first.end();
      const a = mid === undefined ? undefined : second.push(mid);
      const b = second.end();
      if (a === undefined || b === undefined) return a ?? b;
      const out = new Uint8Array(a.byteLength + b.byteLength);
      out.set(a);
      out.set(b, a.byteLength);
      return out;
    },
    failed: () => first.failed?.() ?? second.failed?.(),
  };
}
