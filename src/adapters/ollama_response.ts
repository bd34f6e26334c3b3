/**
 * Ollama native `/api/chat` answers → OpenAI: the single JSON object becomes a
 * `chat.completion`, the NDJSON stream becomes `chat.completion.chunk` SSE events ending with
 * `data: [DONE]` (OpenAI API reference, "The chat completion chunk object").
 *
 * @module
 */

import { UpstreamError } from "../errors.ts";
import { createLineTransform } from "./line_stream.ts";
import { SSE_DONE, sseData } from "./sse.ts";

/** The code of the error a stream fails with once it started (the relay's error event carries it). */
const STREAM_ERROR = "upstream_stream_error";

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What the mappers know of the request. */
export interface OllamaChatContext {
  /** Model name to report when Ollama's answer lacks one. */
  readonly model: string;
  /** Emit a final usage chunk (`stream_options.include_usage`). */
  readonly includeUsage: boolean;
}

/** OpenAI usage from Ollama's counters. */
function usageOf(up: Json): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt = typeof up.prompt_eval_count === "number" ? up.prompt_eval_count : 0;
  const completion = typeof up.eval_count === "number" ? up.eval_count : 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Seconds since the epoch from Ollama's `created_at` (RFC 3339), 0 when absent. */
function createdOf(up: Json): number {
  const ms = typeof up.created_at === "string" ? Date.parse(up.created_at) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

function finishReason(up: Json, sawTools: boolean): string {
  if (sawTools) return "tool_calls";
  return up.done_reason === "length" ? "length" : "stop";
}

function toolCalls(calls: unknown, created: number, first: number): Json[] {
  if (!Array.isArray(calls)) return [];
  return calls.map((call, j) => {
    const fn = isRecord(call) && isRecord(call.function) ? call.function : {};
    const args = fn.arguments;
    return {
      index: first + j,
      id: isRecord(call) && typeof call.id === "string" ? call.id : `call_${created}_${first + j}`,
      type: "function",
      function: { name: fn.name, arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}) },
    };
  });
}

/**
 * Maps a non-streamed `/api/chat` answer to a `chat.completion`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ollamaChatToOpenAI } from "./ollama_response.ts";
 * const out = ollamaChatToOpenAI({ model: "m", created_at: "2024-01-01T00:00:00Z",
 *   message: { role: "assistant", content: "hi" }, done: true, done_reason: "stop" },
 *   { model: "m", includeUsage: false }) as { choices: { message: { content: string } }[] };
 * assert(out.choices[0].message.content === "hi");
 * ```
 */
export function ollamaChatToOpenAI(upstream: unknown, ctx: OllamaChatContext): unknown {
  if (!isRecord(upstream) || !isRecord(upstream.message)) {
    throw new UpstreamError("The Ollama chat response has no message.");
  }
  const created = createdOf(upstream);
  const msg = upstream.message;
  const calls = toolCalls(msg.tool_calls, created, 0).map(({ index: _index, ...call }) => call);
  const content = typeof msg.content === "string" ? msg.content : "";
  const message: Json = { role: "assistant", content: calls.length > 0 && content === "" ? null : content };
  if (typeof msg.thinking === "string" && msg.thinking !== "") message.reasoning_content = msg.thinking;
  if (calls.length > 0) message.tool_calls = calls;
  return {
    id: `chatcmpl-ollama-${created}`,
    object: "chat.completion",
    created,
    model: typeof upstream.model === "string" ? upstream.model : ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(upstream, calls.length > 0) }],
    usage: usageOf(upstream),
  };
}

/**
 * A fresh transform from Ollama's NDJSON chat stream to OpenAI SSE. Each NDJSON line becomes at
 * most a few events, emitted as soon as the line is complete. `[DONE]` is only sent after Ollama's
 * own `done: true` line, so a stream cut short by the backend stays visibly incomplete. A line
 * that is not JSON, or Ollama's `{"error": …}` mid-stream, fails the transform with an
 * {@linkcode UpstreamError} carrying that message: the relay then ends the client's stream with
 * its error event, lets the upstream go and records the attempt as failed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createOllamaChatStream } from "./ollama_response.ts";
 * const ndjson = '{"model":"m","message":{"role":"assistant","content":"Hi"},"done":false}\n' +
 *   '{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}\n';
 * const sse = await new Response(
 *   new Response(ndjson).body!.pipeThrough(createOllamaChatStream({ model: "m", includeUsage: false })),
 * ).text();
 * assert(sse.includes('"content":"Hi"') && sse.endsWith("data: [DONE]\n\n"));
 * ```
 */
export function createOllamaChatStream(ctx: OllamaChatContext): TransformStream<Uint8Array, Uint8Array> {
  let first = true;
  let toolCount = 0;
  let done = false;
  let created = 0;
  let id = "";
  let model = ctx.model;

  const chunk = (delta: Json, finish: string | null) =>
    sseData({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });

  const line = (text: string): string => {
    if (text.trim() === "" || done) return "";
    let up: unknown;
    try {
      up = JSON.parse(text);
    } catch {
      throw new UpstreamError("The Ollama stream sent a line that is not JSON.", STREAM_ERROR);
    }
    if (!isRecord(up)) return "";
    if (typeof up.error === "string") throw new UpstreamError(up.error, STREAM_ERROR);
    if (first) {
      created = createdOf(up);
      id = `chatcmpl-ollama-${created}`;
      if (typeof up.model === "string") model = up.model;
    }
    const msg = isRecord(up.message) ? up.message : {};
    const delta: Json = first ? { role: "assistant" } : {};
    if (typeof msg.content === "string" && (msg.content !== "" || first)) delta.content = msg.content;
    if (typeof msg.thinking === "string" && msg.thinking !== "") delta.reasoning_content = msg.thinking;
    const calls = toolCalls(msg.tool_calls, created, toolCount);
    if (calls.length > 0) {
      delta.tool_calls = calls;
      toolCount += calls.length;
    }
    const hasNews = first || "content" in delta || "reasoning_content" in delta || calls.length > 0;
    first = false;
    let out = hasNews ? chunk(delta, null) : "";
    if (up.done === true) {
      done = true;
      out += chunk({}, finishReason(up, toolCount > 0));
      if (ctx.includeUsage) {
        out += sseData({
          id,
          object: "chat.completion.chunk",
          created,
          model,
          choices: [],
          usage: usageOf(up),
        });
      }
    }
    return out;
  };

  // An NDJSON stream that stops before its `done: true` line was cut: the client gets the error
  // event (after the mapper), not a stream that looks finished without a finish_reason.
  const end = () => {
    if (done) return SSE_DONE;
    throw new UpstreamError("The Ollama stream ended before its last message (done: true).", STREAM_ERROR);
  };
  return createLineTransform({ line, end });
}
