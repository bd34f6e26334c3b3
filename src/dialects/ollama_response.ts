/**
 * OpenAI answers → Ollama native answers (`api/types.go`: `ChatResponse`, `GenerateResponse`,
 * `EmbedResponse`, `Metrics`; errors are `{"error": "…"}` as Ollama's `StatusError` writes them).
 * Counts come from the upstream's usage; durations are measured at the gateway in nanoseconds
 * (they include the network; `load_duration` is 0 because the gateway loads nothing).
 *
 * @module
 */

import { UpstreamError } from "../errors.ts";
import type { OllamaCtx } from "./ollama_request.ts";
import { firstChoice, reasoningOf } from "./openai_shape.ts";
import { isRecord, type Json } from "./request_body.ts";

/**
 * Ollama's error body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ollamaErrorBody } from "./ollama_response.ts";
 * assert.deepEqual(ollamaErrorBody(404, 'model "x" not found'), { error: 'model "x" not found' });
 * ```
 */
export function ollamaErrorBody(_status: number, message: string): Json {
  return { error: message };
}

/** Ollama's `done_reason` for a chat finish reason. */
export function doneReason(finish: unknown): string {
  return finish === "length" ? "length" : "stop";
}

/** The `Metrics` fields of a final answer. */
export function metrics(ctx: OllamaCtx, usage: unknown, firstTokenAt?: number): Json {
  const now = ctx.clock();
  const u = isRecord(usage) ? usage : {};
  const total = Math.max(0, now - ctx.startedAt) * 1e6;
  const prompt = firstTokenAt === undefined ? 0 : Math.max(0, firstTokenAt - ctx.startedAt) * 1e6;
  return {
    total_duration: total,
    load_duration: 0,
    prompt_eval_count: typeof u.prompt_tokens === "number" ? u.prompt_tokens : 0,
    prompt_eval_duration: prompt,
    eval_count: typeof u.completion_tokens === "number" ? u.completion_tokens : 0,
    eval_duration: total - prompt,
  };
}

/** Tool calls with arguments as objects, as Ollama sends them; throws when they are not JSON. */
export function ollamaToolCalls(calls: unknown): Json[] {
  if (!Array.isArray(calls)) return [];
  return calls.map((call, index) => {
    const fn = isRecord(call) && isRecord(call.function) ? call.function : {};
    const raw = fn.arguments ?? {};
    let args: unknown = raw;
    if (typeof raw === "string") {
      try {
        args = raw.trim() === "" ? {} : JSON.parse(raw);
      } catch {
        throw new UpstreamError(`The model's tool call arguments are not JSON: ${raw.slice(0, 200)}`);
      }
    }
    const out: Json = { function: { index, name: fn.name, arguments: args } };
    if (isRecord(call) && typeof call.id === "string") out.id = call.id;
    return out;
  });
}

/**
 * A `chat.completion` → an `/api/chat` or `/api/generate` answer (by `ctx.kind`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toOllamaAnswer } from "./ollama_response.ts";
 * const ctx = { kind: "generate" as const, model: "m", startedAt: 0, clock: () => 1000 };
 * const out = toOllamaAnswer({ choices: [{ message: { content: "Hi" }, finish_reason: "stop" }] }, ctx);
 * assert.equal(out.response, "Hi");
 * assert.equal(out.total_duration, 1e9);
 * ```
 */
export function toOllamaAnswer(openai: unknown, ctx: OllamaCtx): Json {
  const { choice, message: msg, usage } = firstChoice(openai);
  const content = typeof msg.content === "string" ? msg.content : "";
  const thinking = reasoningOf(msg);
  const calls = ollamaToolCalls(msg.tool_calls);
  const out: Json = { model: ctx.model, created_at: new Date(ctx.clock()).toISOString() };
  if (ctx.kind === "chat") {
    const message: Json = { role: "assistant", content };
    if (thinking !== undefined) message.thinking = thinking;
    if (calls.length > 0) message.tool_calls = calls;
    out.message = message;
  } else {
    out.response = content;
    if (thinking !== undefined) out.thinking = thinking;
    if (calls.length > 0) out.tool_calls = calls;
  }
  out.done = true;
  out.done_reason = doneReason(choice.finish_reason);
  return Object.assign(out, metrics(ctx, usage));
}

/**
 * An OpenAI embeddings answer → an `/api/embed` answer (vectors in input order).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toOllamaEmbed } from "./ollama_response.ts";
 * const ctx = { kind: "embed" as const, model: "e", startedAt: 0, clock: () => 0 };
 * const out = toOllamaEmbed({ data: [{ index: 1, embedding: [2] }, { index: 0, embedding: [1] }] }, ctx);
 * assert.deepEqual(out.embeddings, [[1], [2]]);
 * ```
 */
export function toOllamaEmbed(openai: unknown, ctx: OllamaCtx): Json {
  const data = isRecord(openai) && Array.isArray(openai.data) ? openai.data : undefined;
  if (!data) throw new UpstreamError("The upstream embeddings answer has no data array.");
  const rows = data.map((row, i) => {
    if (!isRecord(row) || !Array.isArray(row.embedding)) {
      throw new UpstreamError(
        `The upstream embeddings answer has no embedding at data[${i}] (base64 is not read).`,
      );
    }
    return { index: typeof row.index === "number" ? row.index : i, embedding: row.embedding };
  }).sort((a, b) => a.index - b.index);
  const m = metrics(ctx, isRecord(openai) ? openai.usage : undefined);
  return {
    model: ctx.model,
    embeddings: rows.map((r) => r.embedding),
    total_duration: m.total_duration,
    load_duration: 0,
    prompt_eval_count: m.prompt_eval_count,
  };
}
