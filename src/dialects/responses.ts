/**
 * The OpenAI Responses dialect (`POST /v1/responses`, stateless subset), for Codex and the newest
 * OpenAI SDK features.
 *
 * @module
 */

import { SSE_CONTENT_TYPE } from "../adapters/sse.ts";
import { defineDialect } from "./define.ts";
import { NATIVE_RESPONSES } from "./native.ts";
import { type ResponsesCtx, translateResponses } from "./responses_request.ts";
import { openaiErrorBody, toResponsesObject } from "./responses_response.ts";
import { createResponsesStream } from "./responses_stream.ts";
import type { Dialect } from "./types.ts";

export type { ResponsesCtx } from "./responses_request.ts";

/**
 * `POST /v1/responses` → `POST /v1/chat/completions`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { responsesDialect } from "./responses.ts";
 * const env = { clock: () => 0, randomId: () => "abc" };
 * const bad = responsesDialect.parseRequest(
 *   new TextEncoder().encode('{"model":"m","input":"hi","previous_response_id":"resp_1"}'), env);
 * assert(!bad.ok && bad.param === "previous_response_id" && /stateless/.test(bad.message));
 * ```
 */
export const responsesDialect: Dialect<ResponsesCtx> = defineDialect({
  name: "responses",
  route: "/v1/responses",
  service: "chat",
  upstreamRoute: "/v1/chat/completions",
  contentType: "application/json",
  streamContentType: SSE_CONTENT_TYPE,
  read: translateResponses,
  toResponse: toResponsesObject,
  streamTransformer: createResponsesStream,
  errorBody: (status, message, param) => openaiErrorBody(status, message, param ?? null),
  native: NATIVE_RESPONSES,
});
