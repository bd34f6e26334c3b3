/**
 * Server-sent events as OpenAI streams them (OpenAI API reference, "Streaming"): one
 * `data: <json>` event per chunk, a blank line after each, and a final `data: [DONE]`.
 *
 * @module
 */

/** The content type of an SSE stream (WHATWG HTML, "Server-sent events"). */
export const SSE_CONTENT_TYPE = "text/event-stream";

/** The terminal event of an OpenAI stream. */
export const SSE_DONE = "data: [DONE]\n\n";

/**
 * One SSE event carrying a JSON payload.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseData } from "./sse.ts";
 * assert(sseData({ a: 1 }) === 'data: {"a":1}\n\n');
 * ```
 */
export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/**
 * The OpenAI-style error event sent when a stream fails after it started (the status line is
 * already gone, so the error travels in the body).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseError } from "./sse.ts";
 * assert(sseError("boom").includes('"message":"boom"'));
 * ```
 */
export function sseError(message: string): string {
  return sseData({ error: { message, type: "upstream_error", code: "upstream_stream_error", param: null } });
}
