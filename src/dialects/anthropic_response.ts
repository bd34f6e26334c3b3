/**
 * OpenAI chat answers → Anthropic: the `chat.completion` becomes a `message` with `text` and
 * `tool_use` content blocks, finish reasons become `stop_reason`s, and errors take Anthropic's
 * shape `{"type":"error","error":{"type","message"}}` with its error type per HTTP status
 * (Anthropic API reference, "Errors").
 *
 * @module
 */

import { UpstreamError } from "../errors.ts";
import type { AnthropicCtx } from "./anthropic_request.ts";
import { firstChoice, reasoningOf } from "./openai_shape.ts";
import { isRecord, type Json } from "./request_body.ts";

/** Anthropic's error `type` for an HTTP status (4xx not listed → `invalid_request_error`). */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    case 504:
      return "timeout_error";
    default:
      return status < 500 ? "invalid_request_error" : "api_error";
  }
}

/**
 * The Anthropic error body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { anthropicErrorBody } from "./anthropic_response.ts";
 * assert.deepEqual(anthropicErrorBody(429, "slow down"), {
 *   type: "error", error: { type: "rate_limit_error", message: "slow down" },
 * });
 * ```
 */
export function anthropicErrorBody(status: number, message: string): Json {
  return { type: "error", error: { type: anthropicErrorType(status), message } };
}

/** The stop reason and sequence for an OpenAI finish reason. */
export function stopReason(
  finish: unknown,
  matched: unknown,
  ctx: AnthropicCtx,
): { stop_reason: string; stop_sequence: string | null } {
  switch (finish) {
    case "length":
      return { stop_reason: "max_tokens", stop_sequence: null };
    case "tool_calls":
    case "function_call":
      return { stop_reason: "tool_use", stop_sequence: null };
    case "content_filter":
      return { stop_reason: "refusal", stop_sequence: null };
  }
  // vLLM reports the stop string that matched in `stop_reason`; plain OpenAI says only "stop".
  if (typeof matched === "string" && ctx.stopSequences.includes(matched)) {
    return { stop_reason: "stop_sequence", stop_sequence: matched };
  }
  return { stop_reason: "end_turn", stop_sequence: null };
}

/** Anthropic usage from OpenAI usage (absent counters are 0). */
export function anthropicUsage(usage: unknown): { input_tokens: number; output_tokens: number } {
  const u = isRecord(usage) ? usage : {};
  return {
    input_tokens: typeof u.prompt_tokens === "number" ? u.prompt_tokens : 0,
    output_tokens: typeof u.completion_tokens === "number" ? u.completion_tokens : 0,
  };
}

function toolInput(args: unknown): Json {
  if (isRecord(args)) return args;
  if (typeof args !== "string" || args.trim() === "") return {};
  try {
    const value = JSON.parse(args);
    if (isRecord(value)) return value;
  } catch {
    // Answered below: a tool call whose arguments are not a JSON object cannot be a tool_use.
  }
  throw new UpstreamError(`The model's tool call arguments are not a JSON object: ${args.slice(0, 200)}`);
}

/**
 * Translates a `chat.completion` into an Anthropic `message`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toAnthropicMessage } from "./anthropic_response.ts";
 * const msg = toAnthropicMessage({
 *   choices: [{ message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
 *   usage: { prompt_tokens: 3, completion_tokens: 1 },
 * }, { id: "msg_1", model: "m", stopSequences: [], thinking: false }) as Record<string, unknown>;
 * assert.deepEqual(msg.content, [{ type: "text", text: "Hi" }]);
 * assert.equal(msg.stop_reason, "end_turn");
 * ```
 */
export function toAnthropicMessage(openai: unknown, ctx: AnthropicCtx): Json {
  const { choice, message: msg, usage } = firstChoice(openai);
  const content: Json[] = [];
  const reasoning = reasoningOf(msg);
  if (ctx.thinking && reasoning !== undefined) {
    content.push({ type: "thinking", thinking: reasoning, signature: "" });
  }
  if (typeof msg.content === "string" && msg.content !== "") {
    content.push({ type: "text", text: msg.content });
  }
  if (Array.isArray(msg.tool_calls)) {
    msg.tool_calls.forEach((call, i) => {
      const fn = isRecord(call) && isRecord(call.function) ? call.function : {};
      const id = isRecord(call) && typeof call.id === "string" && call.id !== ""
        ? call.id
        : `toolu_${ctx.id}_${i}`;
      content.push({ type: "tool_use", id, name: fn.name, input: toolInput(fn.arguments) });
    });
  }
  // An answer cut by its token limit is "max_tokens" even with calls in it: their input may be cut.
  const finish = content.some((b) => b.type === "tool_use") && choice.finish_reason !== "length"
    ? "tool_calls"
    : choice.finish_reason;
  return {
    id: ctx.id,
    type: "message",
    role: "assistant",
    model: ctx.model,
    content,
    ...stopReason(finish, choice.stop_reason, ctx),
    usage: anthropicUsage(usage),
  };
}
