/**
 * The Anthropic Messages dialect (`POST /v1/messages`), for Claude Code and the Anthropic SDKs.
 * `count_tokens` is answered locally by {@linkcode countTokens} (an estimate).
 *
 * @module
 */

import { SSE_CONTENT_TYPE } from "../adapters/sse.ts";
import { type AnthropicCtx, translateAnthropic } from "./anthropic_request.ts";
import { anthropicErrorBody, toAnthropicMessage } from "./anthropic_response.ts";
import { createAnthropicStream } from "./anthropic_stream.ts";
import { defineDialect } from "./define.ts";
import { NATIVE_ANTHROPIC } from "./native.ts";
import type { Dialect } from "./types.ts";

export { countTokens, estimateInputTokens } from "./anthropic_count.ts";
export type { AnthropicCtx } from "./anthropic_request.ts";

/**
 * `POST /v1/messages` → `POST /v1/chat/completions`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { anthropicDialect } from "./anthropic.ts";
 * const env = { clock: () => 0, randomId: () => "abc" };
 * const bad = anthropicDialect.parseRequest(new TextEncoder().encode('{"model":"m"}'), env);
 * assert(!bad.ok && bad.status === 400);
 * assert.equal((anthropicDialect.errorBody(400, bad.message) as { type: string }).type, "error");
 * ```
 */
export const anthropicDialect: Dialect<AnthropicCtx> = defineDialect({
  name: "anthropic",
  route: "/v1/messages",
  service: "chat",
  upstreamRoute: "/v1/chat/completions",
  contentType: "application/json",
  streamContentType: SSE_CONTENT_TYPE,
  read: translateAnthropic,
  toResponse: toAnthropicMessage,
  streamTransformer: createAnthropicStream,
  errorBody: anthropicErrorBody,
  native: NATIVE_ANTHROPIC,
});
