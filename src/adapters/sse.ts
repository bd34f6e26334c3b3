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
