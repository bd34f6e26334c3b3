/**
 * OpenAI chat answers → OpenAI Responses objects (OpenAI API reference, "The response object"):
 * `output` items (`reasoning`, `message` with `output_text`, `function_call`), `status`
 * (`completed`, or `incomplete` with its reason), `usage` in input/output/total tokens, and
 * errors in OpenAI's shape.
 *
 * @module
 */

import { firstChoice, reasoningOf } from "./openai_shape.ts";
import { isRecord, type Json } from "./request_body.ts";
import type { ResponsesCtx } from "./responses_request.ts";

const TYPES: Readonly<Record<number, [string, string]>> = {
  400: ["invalid_request_error", "invalid_request"],
  401: ["authentication_error", "invalid_api_key"],
  403: ["permission_error", "model_not_allowed"],
  404: ["invalid_request_error", "model_not_found"],
  413: ["invalid_request_error", "payload_too_large"],
  429: ["rate_limit_error", "rate_limit_exceeded"],
  502: ["upstream_error", "upstream_error"],
  503: ["server_error", "service_unavailable"],
  504: ["timeout_error", "upstream_timeout"],
};

/**
 * An error body in OpenAI's shape, typed as the gateway's own errors are (`src/errors.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openaiErrorBody } from "./responses_response.ts";
 * assert.deepEqual(openaiErrorBody(429, "slow"), {
 *   error: { message: "slow", type: "rate_limit_error", code: "rate_limit_exceeded", param: null },
 * });
 * ```
 */
export function openaiErrorBody(status: number, message: string, param: string | null = null): Json {
  const [type, code] = TYPES[status] ?? (status < 500 ? TYPES[400] : ["server_error", "server_error"]);
  return { error: { message, type, code, param } };
}

/** Responses usage from chat usage. */
export function responsesUsage(usage: unknown): Json {
  const u = isRecord(usage) ? usage : {};
  const input = typeof u.prompt_tokens === "number" ? u.prompt_tokens : 0;
  const output = typeof u.completion_tokens === "number" ? u.completion_tokens : 0;
  const cached = isRecord(u.prompt_tokens_details) ? u.prompt_tokens_details.cached_tokens : undefined;
  const reasoning = isRecord(u.completion_tokens_details)
    ? u.completion_tokens_details.reasoning_tokens
    : undefined;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: typeof cached === "number" ? cached : 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: typeof reasoning === "number" ? reasoning : 0 },
    total_tokens: typeof u.total_tokens === "number" ? u.total_tokens : input + output,
  };
}

/** `status` and `incomplete_details` for a chat finish reason. */
export function responseStatus(finish: unknown): { status: string; incomplete_details: Json | null } {
  if (finish === "length") {
    return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  }
  if (finish === "content_filter") {
    return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  }
  return { status: "completed", incomplete_details: null };
}

/** A response object around `output`, echoing the request. */
export function responseObject(
  ctx: ResponsesCtx,
  status: string,
  output: Json[],
  extra: { incomplete_details?: Json | null; usage?: Json | null } = {},
): Json {
  return {
    id: ctx.id,
    object: "response",
    created_at: ctx.createdAt,
    status,
    error: null,
    incomplete_details: extra.incomplete_details ?? null,
    model: ctx.model,
    output,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    truncation: "disabled",
    ...ctx.echo,
    usage: extra.usage ?? null,
  };
}

/** Item ids: one per output position, derived from the response id. */
export function itemId(ctx: ResponsesCtx, prefix: "msg" | "fc" | "rs", n: number): string {
  return `${prefix}_${ctx.id.slice(5)}_${n}`;
}

/** A completed message item. */
export function messageItem(id: string, text: string): Json {
  return {
    type: "message",
    id,
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text, annotations: [], logprobs: [] }],
  };
}

/** A completed reasoning item. */
export function reasoningItem(id: string, text: string): Json {
  return { type: "reasoning", id, summary: [], content: [{ type: "reasoning_text", text }] };
}

/** A function call item. */
export function functionCallItem(
  id: string,
  callId: string,
  name: string,
  args: string,
  status: string,
): Json {
  return { type: "function_call", id, call_id: callId, name, arguments: args, status };
}

/**
 * Translates a `chat.completion` into a response object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toResponsesObject } from "./responses_response.ts";
 * const ctx = { id: "resp_1", model: "m", createdAt: 0, echo: {} };
 * const out = toResponsesObject({ choices: [{ message: { content: "Hi" }, finish_reason: "stop" }] }, ctx);
 * assert.equal(out.status, "completed");
 * assert.equal((out.output as { content: { text: string }[] }[])[0].content[0].text, "Hi");
 * ```
 */
export function toResponsesObject(openai: unknown, ctx: ResponsesCtx): Json {
  const { choice, message: msg, usage } = firstChoice(openai);
  const output: Json[] = [];
  const reasoning = reasoningOf(msg);
  if (reasoning !== undefined) output.push(reasoningItem(itemId(ctx, "rs", output.length), reasoning));
  if (typeof msg.content === "string" && msg.content !== "") {
    output.push(messageItem(itemId(ctx, "msg", output.length), msg.content));
  }
  if (Array.isArray(msg.tool_calls)) {
    for (const call of msg.tool_calls) {
      const fn = isRecord(call) && isRecord(call.function) ? call.function : {};
      const id = itemId(ctx, "fc", output.length);
      const callId = isRecord(call) && typeof call.id === "string" ? call.id : id;
      const args = typeof fn.arguments === "string" ? fn.arguments : JSON.stringify(fn.arguments ?? {});
      output.push(functionCallItem(id, callId, String(fn.name ?? ""), args, "completed"));
    }
  }
  const { status, incomplete_details } = responseStatus(choice.finish_reason);
  return responseObject(ctx, status, output, { incomplete_details, usage: responsesUsage(usage) });
}
